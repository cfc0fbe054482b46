/* `weightwall serve` in a build without libcurl. */
#include <stdio.h>
#include "serve/serve.h"

int ww_cmd_serve(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fputs("weightwall serve: this build has no libcurl (-Dcurl=disabled); the gate needs it\n",
          stderr);
    return 2;
}
