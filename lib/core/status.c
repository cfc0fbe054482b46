/* Names for the public enums. */
#include <strings.h>
#include "weightwall.h"

const char *ww_strerror(ww_status st)
{
    switch (st) {
    case WW_OK: return "success";
    case WW_E_NOMEM: return "out of memory";
    case WW_E_IO: return "input/output error";
    case WW_E_ARG: return "invalid argument";
    case WW_E_INTERNAL: return "internal error";
    case WW_E_TRUNCATED: return "truncated input";
    case WW_E_FORMAT: return "malformed input";
    case WW_E_LIMIT: return "limit exceeded";
    case WW_E_UNSUPPORTED: return "unsupported content";
    case WW_E_TIMEOUT: return "scan time limit exceeded";
    case WW_E_NET: return "network error";
    case WW_E_POLICY_PARSE: return "policy parse error";
    case WW_E_POLICY_EVAL: return "policy evaluation error";
    case WW_STATUS_END_: break;
    }
    return "unknown status";
}

const char *ww_status_name(ww_status st)
{
    switch (st) {
    case WW_OK: return "ok";
    case WW_E_NOMEM: return "nomem";
    case WW_E_IO: return "io";
    case WW_E_ARG: return "arg";
    case WW_E_INTERNAL: return "internal";
    case WW_E_TRUNCATED: return "truncated";
    case WW_E_FORMAT: return "malformed";
    case WW_E_LIMIT: return "limit";
    case WW_E_UNSUPPORTED: return "unsupported";
    case WW_E_TIMEOUT: return "timeout";
    case WW_E_NET: return "network";
    case WW_E_POLICY_PARSE: return "policy_parse";
    case WW_E_POLICY_EVAL: return "policy_eval";
    case WW_STATUS_END_: break;
    }
    return "unknown";
}

const char *ww_severity_name(ww_severity sev)
{
    switch (sev) {
    case WW_SEV_NONE: return "NONE";
    case WW_SEV_LOW: return "LOW";
    case WW_SEV_MEDIUM: return "MEDIUM";
    case WW_SEV_HIGH: return "HIGH";
    case WW_SEV_CRITICAL: return "CRITICAL";
    }
    return "NONE";
}

bool ww_severity_parse(const char *s, ww_severity *out)
{
    static const char *const names[] = {"none", "low", "medium", "high", "critical"};
    for (int i = 0; i < 5; i++)
        if (strcasecmp(s, names[i]) == 0) {
            *out = (ww_severity)i;
            return true;
        }
    return false;
}

const char *ww_verdict_name(ww_verdict v)
{
    switch (v) {
    case WW_VERDICT_CLEAN: return "clean";
    case WW_VERDICT_UNSAFE: return "unsafe";
    case WW_VERDICT_ERROR: return "error";
    }
    return "error";
}
