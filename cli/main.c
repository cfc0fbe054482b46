/* weightwall: command dispatch and top-level help. */
#include <stdio.h>
#include <string.h>
#include "cli/cli.h"
#include "common/sandbox.h"
#include "serve/serve.h"
#include "weightwall.h"
#if __has_include("cli/cmd_policy.h")
#include "cli/cmd_policy.h"
#define HAVE_POLICY_CMD 1
#endif

static const char usage[] =
    "weightwall " WW_VERSION " - find code hidden in ML model files, without running it\n"
    "\n"
    "Usage: weightwall <command> [options] [args]\n"
    "\n"
    "Commands:\n"
    "  scan PATH...       scan model files, directories, archives (see `weightwall scan --help`)\n"
    "  policy ...         evaluate Rego policies over scan results (`weightwall policy --help`)\n"
    "  serve ...          run the scanning Hugging Face proxy (`weightwall serve --help`)\n"
    "  formats            list the formats weightwall recognises and whether they can carry code\n"
    "  limits             list the scan limits and their defaults\n"
    "  version            print the version\n"
    "\n"
    "Exit codes: 0 clean, 1 a finding at or above the threshold (or a policy match),\n"
    "            2 an error (usage, I/O, a file that could not be fully understood).\n"
    "\n"
    "Example:\n"
    "  weightwall scan ~/.cache/huggingface/hub\n"
    "  weightwall scan --format json model.pt | jq .files[0].verdict\n";

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage, stderr);
        return WW_EXIT_ERROR;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "__sandbox-child") == 0) /* internal: see common/sandbox.h */
        wwx_sandbox_child_main(argc - 2, argv + 2);
    if (strcmp(cmd, "scan") == 0)
        return ww_cmd_scan(argc - 1, argv + 1);
    if (strcmp(cmd, "serve") == 0)
        return ww_cmd_serve(argc - 1, argv + 1);
    if (strcmp(cmd, "formats") == 0)
        return ww_cmd_formats(argc - 1, argv + 1);
    if (strcmp(cmd, "limits") == 0)
        return ww_cmd_limits(argc - 1, argv + 1);
#ifdef HAVE_POLICY_CMD
    if (strcmp(cmd, "policy") == 0)
        return ww_cmd_policy(argc - 1, argv + 1);
#endif
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("weightwall %s\n", WW_VERSION);
        return WW_EXIT_CLEAN;
    }
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        fputs(usage, stdout);
        return WW_EXIT_CLEAN;
    }
    fprintf(stderr, "weightwall: unknown command '%s'\n\n%s", cmd, usage);
    return WW_EXIT_ERROR;
}
