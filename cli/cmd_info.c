/* `weightwall formats` and `weightwall limits`. */
#include <stdio.h>
#include <string.h>
#include "cli/cli.h"
#include "weightwall.h"

int ww_cmd_formats(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    printf("%-14s %-13s %s\n", "FORMAT", "CODE-CAPABLE", "PARSER");
    const char *name;
    bool code, built;
    for (size_t i = 0; ww_format_info(i, &name, &code, &built); i++)
        printf("%-14s %-13s %s\n", name, code ? "yes" : "no", built ? "built" : "not built");
    printf("\nModules refine what they find, per file and per member: zip -> pytorch_zip,\n"
           "torchscript, npz, keras_v3; hdf5 -> keras_h5; gguf and json carrying a chat\n"
           "template. Each scanned file reports its detected format and whether it can\n"
           "carry code (`scan --format json`: format, code_capable, layers[]).\n");
    return WW_EXIT_CLEAN;
}

int ww_cmd_limits(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    ww_limits l;
    ww_limits_default(&l);
    const char *name, *doc;
    uint64_t v;
    printf("Limits (change with `weightwall scan --limit NAME=VALUE`):\n");
    for (size_t i = 0; ww_limits_describe(&l, i, &name, &doc, &v); i++)
        printf("  %-20s %14llu  %s\n", name, (unsigned long long)v, doc);
    return WW_EXIT_CLEAN;
}
