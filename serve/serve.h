/* `weightwall serve`: an HF_ENDPOINT-compatible gate that scans every file
 * before any of its bytes reach a client. Design: docs/serve.md. */
#ifndef WW_SERVE_H
#define WW_SERVE_H

int ww_cmd_serve(int argc, char **argv);

#endif
