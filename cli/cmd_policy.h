#ifndef WW_CMD_POLICY_H
#define WW_CMD_POLICY_H
/* `weightwall policy eval|check|decide ...` (cli/cmd_policy.c). */
int ww_cmd_policy(int argc, char **argv);
#endif
