/* cli.h — what the files of the zexus-jit command (main.c, repl.c) share. */
#ifndef ZX_CLI_H
#define ZX_CLI_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "zexus.h"

enum { EXIT_RUNTIME = 1, EXIT_USAGE = 2, EXIT_INTERRUPTED = 130 };

typedef struct cli {
    zx_options opts;
    const char *file;            /* "-": standard input; "<string>" with code */
    const char *code;            /* -e CODE */
    const char *output;          /* compile -o */
    bool dot;                    /* chunks --dot */
    bool dist;                   /* run --dist: parallel_map across MPI ranks */
    bool all_deps;               /* chunks --all-deps */
    int stats;                   /* 0 none, 1 text, 2 json */
    double max_time;             /* run --max-time in seconds, 0 = unlimited */
    int nargs;
    char **args;
} cli;

/* "zexus-jit: MESSAGE" and the --help hint on stderr; returns EXIT_USAGE. */
int usage_error(const char *fmt, const char *arg);
/* The exit status of a run that ended with st. */
int exit_code(zx_status st);
/* zx_vm_create failed: say why; the exit status. */
int create_failed(const cli *c, zx_status st);
/* Print the VM's last error for st (nothing for ZX_OK or a closed pipe); the exit status. */
int report(zx_vm *vm, zx_status st);

/* SIGINT sets g_sigint and interrupts the VM that cli_guarded runs, if any. */
extern volatile sig_atomic_t g_sigint;
void cli_catch_sigint(void);
/* Run prog (sess NULL) or evaluate src in sess under c's --max-time, with SIGINT
 * interrupting it; then --stats.  The status of the run. */
zx_status cli_guarded(cli *c, zx_vm *vm, zx_program *prog, zx_session *sess, const char *src, size_t len);

/* repl.c: the interactive session (`zexus-jit repl`, or no FILE on a terminal). */
int cmd_repl(cli *c);

#endif
