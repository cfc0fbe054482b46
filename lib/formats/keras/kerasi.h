/* Private to lib/formats/keras: the pieces keras.c's config walk is made of. */
#ifndef WWI_KERASI_H
#define WWI_KERASI_H
#include <jansson.h>
#include "core/scan.h"

typedef struct wwi_keras_ctx {
    wwi_scan *s;
    const char *where;  /* "model_config", "config.json": prefixes messages */
    uint32_t max_depth; /* limits.max_json_depth: config and marshal nesting */
    bool limit_hit;
} wwi_keras_ctx;

/* What one lambda (or Lambda layer) touches, collected before reporting. */
typedef struct wwi_keras_hits {
    ww_severity worst;     /* highest exec-table severity among the names */
    const char *why;       /* that row's reason */
    char danger[320];      /* "os, system, ..." (bounded, deduplicated) */
    size_t ndanger;
    char sample[240];      /* first co_names, for context */
    size_t nsample;
    uint32_t ncode;        /* code objects decoded (the lambda and nested ones) */
    bool bytecode, source; /* marshalled code / function given as text */
} wwi_keras_hits;

static inline bool wwi_keras_fatal(ww_status st)
{
    return st == WW_E_NOMEM || st == WW_E_TIMEOUT || st == WW_E_INTERNAL;
}

void wwi_keras_hits_init(wwi_keras_hits *h);
static inline void wwi_keras_hits_free(wwi_keras_hits *h) { (void)h; }
/* Classify one name (identifier, dotted name or string constant) through the
 * exec table and remember it when it matches. */
void wwi_keras_hit(wwi_keras_hits *h, const char *name, size_t len);
/* Remember an identifier-like name for the message's context list. */
void wwi_keras_sample(wwi_keras_hits *h, const char *name, size_t len);
/* Exec-table lookup of exactly len bytes; NONE when no row matches. */
ww_severity wwi_keras_exec_sev(const char *name, size_t len, const char **reason);

/* Decode a Lambda's base64 + marshal bytecode (json string `code`) into h.
 * Decoding failures are recorded as scan errors (fail closed). */
WW_NODISCARD ww_status wwi_keras_lambda_code(wwi_keras_ctx *k, json_t *code, const char *layer,
                                             const char *slot, wwi_keras_hits *h);
/* One finding for a lambda: at least HIGH, raised by what it names. */
void wwi_keras_report_lambda(wwi_keras_ctx *k, const wwi_keras_hits *h, const char *layer,
                             const char *what);
/* A reference to module.name that Keras resolves on load (module may be NULL). */
void wwi_keras_ref(wwi_keras_ctx *k, const char *module, const char *name, const char *layer,
                   const char *what);
/* A string value under `key`: dotted function references, paths and URLs. */
void wwi_keras_string(wwi_keras_ctx *k, const char *key, const char *str, size_t len,
                      const char *layer);
bool wwi_keras_is_ns(const char *module);
#endif
