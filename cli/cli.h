#ifndef WW_CLI_H
#define WW_CLI_H
/* Exit codes are part of the contract (docs/cli/exit-codes.md). */
enum { WW_EXIT_CLEAN = 0, WW_EXIT_UNSAFE = 1, WW_EXIT_ERROR = 2 };

int ww_cmd_scan(int argc, char **argv);
int ww_cmd_formats(int argc, char **argv);
int ww_cmd_limits(int argc, char **argv);
#endif
