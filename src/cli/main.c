/* main.c — the zexus-jit command line: a client of include/zexus.h and nothing else. */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/time.h>

#include "cli.h"

enum { HELP_SHOWN = -1 };   /* parse_args met --help: print the usage, exit 0 */

static const char usage_text[] =
    "usage: zexus-jit [options] [FILE [ARGS...]]    run FILE, as `run` does; with no FILE, an\n"
    "                                                interactive session when standard input\n"
    "                                                is a terminal, else the program read from it\n"
    "       zexus-jit [options] -e CODE [ARGS...]    run the program CODE\n"
    "       zexus-jit repl [options]                 an interactive session: values printed,\n"
    "                                                line editing and history, Ctrl-C cancels\n"
    "                                                the input or stops it, Ctrl-D leaves\n"
    "       zexus-jit run [options] FILE [ARGS...]   run a .zx, .zxa or .zxbc program\n"
    "       zexus-jit compile [options] FILE -o OUT.zxbc   compile to binary bytecode\n"
    "       zexus-jit disasm FILE                    print the bytecode as .zxa text\n"
    "       zexus-jit chunks [--chunk-size=N] [--dot] [--all-deps] FILE\n"
    "                                                chunks, summaries, every direct dependency\n"
    "                                                with its kind; --dot for Graphviz\n"
    "       zexus-jit info [--topology=SPEC]\n"
    "                                                version, LLVM, topology, worker placement\n"
    "       zexus-jit --help | --version\n"
    "\n"
    "FILE may be - (standard input) or -e CODE (a string) in every command.  Without a\n"
    "command, the first argument is FILE when it names an existing file, contains a /,\n"
    "or ends in .zx, .zxa or .zxbc.  ARGS after FILE are the program's `args`.  Options\n"
    "come after the command (or first, without one), as --name=value or --name value:\n"
    "  -e CODE               the program is CODE (messages name it <string>)\n"
    "  --mode=seq|par|auto   sequential, parallel, or parallel where it pays (auto)\n"
    "  --workers=N           worker threads (default: the cores this process may use)\n"
    "  --jit=auto|always|off|strict   JIT tiering (auto)\n"
    "  -O0 .. -O3            JIT optimisation level (-O2)\n"
    "  --chunk-size=N        instructions packed into one chunk (50)\n"
    "  --pin=on|off          pin workers to cores (on)\n"
    "  --topology=SPEC       hwloc synthetic topology, or xml:PATH\n"
    "  --max-depth=N         Zexus call-depth limit (10000)\n"
    "  --max-memory=SIZE     heap limit, e.g. 512M or 2G (unlimited)\n"
    "  --max-time=SECONDS    stop the run with a runtime error after SECONDS (unlimited)\n"
    "  --no-cache            do not use the compiled-code cache\n"
    "  --stats[=json]        after the run, statistics to stderr: chunks, DAG width,\n"
    "                        critical path, threads, busy time, what ran sequentially and why\n"
    "  --sched-seed=N        seeded random scheduling order (for testing determinism)\n"
    "  --dot                 chunks: one Graphviz digraph instead of the listing\n"
    "  --all-deps            chunks: also every pair of chunks that conflict (quadratic)\n"
    "  --dump-ir             print the LLVM IR of compiled code (before and after\n"
    "                        optimisation) to stderr\n"
    "  --perf                name JIT-compiled code for perf and gdb: /tmp/perf-PID.map\n"
    "                        and a jitdump (see docs/profiling.md)\n"
    "  --dist                run: under mpirun, rank 0 runs the program and parallel_map\n"
    "                        spreads over every rank (see docs/distributed.md)\n"
    "\n"
    "Exit status: 0 success, 1 runtime error, 2 usage, syntax or unreadable input,\n"
    "130 interrupted; 0 when a session ends.  See docs/cli.md.\n";

static zx_vm *g_running_vm;   /* for the SIGINT and SIGALRM handlers only */
static volatile sig_atomic_t g_timed_out;   /* --max-time ran out (SIGALRM) */
volatile sig_atomic_t g_sigint;             /* SIGINT came (the session's line reader) */
static volatile sig_atomic_t g_run_over;   /* the run returned: SIGINT now ends the process */

static void on_sigint(int sig)
{
    (void)sig;
    /* after the run (statistics, tearing the VM down: a JIT compile being given up) there is
     * nothing left to stop but the process: Ctrl-C must not be swallowed.  Never set in a
     * session, where Ctrl-C after an input cancels the next line instead. */
    if (g_run_over) _exit(EXIT_INTERRUPTED);
    g_sigint = 1;
    if (g_running_vm) zx_vm_interrupt(g_running_vm);
}

void cli_catch_sigint(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;     /* no SA_RESTART: a read at the prompt ends with EINTR */
    sigaction(SIGINT, &sa, NULL);
}

/* --max-time reuses the interrupt that both tiers poll at every back-edge and call; report()
 * then words the resulting "interrupted" as the runtime error "time limit exceeded". */
static void on_alarm(int sig)
{
    (void)sig;
    g_timed_out = 1;
    if (g_running_vm) zx_vm_interrupt(g_running_vm);
}

/* A numeric macro as a string literal, for messages that name a limit of zexus.h. */
#define CLI_STR_(x) #x
#define CLI_STR(x) CLI_STR_(x)

int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "zexus-jit: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nTry 'zexus-jit --help'.\n");
    return EXIT_USAGE;
}

int exit_code(zx_status st)
{
    switch (st) {
    case ZX_OK: return 0;
    case ZX_E_OUTPUT: return 0;   /* a closed pipe (EPIPE) ends the program quietly; other
                                     write errors come as ZX_E_IO (see cmd_run) */
    case ZX_E_RUNTIME: case ZX_E_MEMORY: return EXIT_RUNTIME;
    case ZX_E_INTERRUPTED: return EXIT_INTERRUPTED;
    case ZX_E_ARGUMENT: case ZX_E_SYNTAX: case ZX_E_IO: case ZX_E_BYTECODE: case ZX_E_VERSION:
    case ZX_E_NOT_FOUND: case ZX_E_UNSUPPORTED:
        return EXIT_USAGE;
    }
    return EXIT_RUNTIME;
}

static bool parse_int(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) return false;
    *out = v;
    return true;
}

static bool parse_size(const char *s, size_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || s[0] == '-') return false;
    unsigned long long mul = 1;
    if (*end == 'K' || *end == 'k') mul = 1ULL << 10, end++;
    else if (*end == 'M' || *end == 'm') mul = 1ULL << 20, end++;
    else if (*end == 'G' || *end == 'g') mul = 1ULL << 30, end++;
    if (*end == 'B' || *end == 'b') end++;
    if (*end || v == 0 || v > (~0ULL) / mul) return false;
    *out = (size_t)(v * mul);
    return true;
}

/* Options that take a value: accepted as --name=value and --name value. */
static const char *const valued[] = { "--mode", "--workers", "--jit", "--chunk-size", "--pin",
                                      "--topology", "--max-depth", "--max-memory", "--max-time",
                                      "--sched-seed", NULL };

static int parse_option(cli *c, const char *name, const char *val)
{
    long n;
    zx_options *o = &c->opts;
    if (strcmp(name, "--mode") == 0) {
        if (strcmp(val, "seq") == 0) o->mode = ZX_MODE_SEQ;
        else if (strcmp(val, "par") == 0) o->mode = ZX_MODE_PAR;
        else if (strcmp(val, "auto") == 0) o->mode = ZX_MODE_AUTO;
        else return usage_error("bad --mode '%s' (seq, par or auto)", val);
    } else if (strcmp(name, "--workers") == 0) {
        if (!parse_int(val, 1, ZX_MAX_WORKERS, &n))
            return usage_error("bad --workers '%s' (1 to " CLI_STR(ZX_MAX_WORKERS) ")", val);
        o->workers = (int)n;
    } else if (strcmp(name, "--jit") == 0) {
        if (strcmp(val, "auto") == 0) o->jit = ZX_JIT_AUTO;
        else if (strcmp(val, "always") == 0) o->jit = ZX_JIT_ALWAYS;
        else if (strcmp(val, "off") == 0) o->jit = ZX_JIT_OFF;
        else if (strcmp(val, "strict") == 0) o->jit = ZX_JIT_STRICT;
        else return usage_error("bad --jit '%s' (auto, always, off or strict)", val);
    } else if (strcmp(name, "--chunk-size") == 0) {
        if (!parse_int(val, 1, 1000000, &n)) return usage_error("bad --chunk-size '%s'", val);
        o->chunk_size = (int)n;
    } else if (strcmp(name, "--pin") == 0) {
        if (strcmp(val, "on") == 0) o->pin = 1;
        else if (strcmp(val, "off") == 0) o->pin = 0;
        else return usage_error("bad --pin '%s' (on or off)", val);
    } else if (strcmp(name, "--topology") == 0) {
        o->topology = val;
    } else if (strcmp(name, "--stats") == 0) {
        if (strcmp(val, "json") == 0) c->stats = 2;
        else if (strcmp(val, "text") == 0) c->stats = 1;
        else return usage_error("bad --stats '%s' (json or text)", val);
    } else if (strcmp(name, "--sched-seed") == 0) {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(val, &end, 10);
        if (errno || end == val || *end || val[0] == '-') return usage_error("bad --sched-seed '%s'", val);
        o->sched_seed = v;
    } else if (strcmp(name, "--max-depth") == 0) {
        if (!parse_int(val, 1, ZX_MAX_DEPTH, &n))
            return usage_error("bad --max-depth '%s' (1 to " CLI_STR(ZX_MAX_DEPTH) ")", val);
        o->max_depth = (int)n;
    } else if (strcmp(name, "--max-memory") == 0) {
        if (!parse_size(val, &o->max_memory)) return usage_error("bad --max-memory '%s' (e.g. 512M)", val);
    } else if (strcmp(name, "--max-time") == 0) {
        char *end;
        errno = 0;
        double v = strtod(val, &end);
        if (errno || end == val || *end || !isfinite(v) || v <= 0 || v > 1e7)
            return usage_error("bad --max-time '%s' (seconds, e.g. 10 or 0.5)", val);
        c->max_time = v;
    } else {
        return usage_error("unknown option '%s'", name);
    }
    return 0;
}

/* Parse the options after the subcommand; stops at FILE (for run, the rest are ARGS). */
static int parse_args(cli *c, int argc, char **argv, bool rest_are_args, bool file_optional)
{
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (c->file) {
            if (rest_are_args) {
                c->nargs = argc - i;
                c->args = argv + i;
                return 0;
            }
        }
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) return HELP_SHOWN;
        if (strcmp(a, "-e") == 0) {
            if (i + 1 >= argc) return usage_error("%s", "-e needs the program's code");
            if (c->file) return usage_error("unexpected argument '%s'", a);
            c->code = argv[++i];
            c->file = "<string>";
            continue;
        }
        if (strcmp(a, "-o") == 0) {
            if (i + 1 >= argc) return usage_error("%s needs a file name", a);
            c->output = argv[++i];
            continue;
        }
        if (a[0] == '-' && a[1] == 'O' && a[2] >= '0' && a[2] <= '3' && a[3] == '\0') {
            c->opts.opt_level = a[2] - '0';
            continue;
        }
        if (strcmp(a, "--stats") == 0) {
            c->stats = 1;
            continue;
        }
        if (strcmp(a, "--no-cache") == 0) {
            c->opts.use_cache = 0;
            continue;
        }
        if (strcmp(a, "--dot") == 0) {
            c->dot = true;
            continue;
        }
        if (strcmp(a, "--dist") == 0) {
            c->dist = true;
            continue;
        }
        if (strcmp(a, "--all-deps") == 0) {
            c->all_deps = true;
            continue;
        }
        if (strcmp(a, "--dump-ir") == 0) {
            c->opts.dump_ir = 1;
            continue;
        }
        if (strcmp(a, "--perf") == 0) {
            c->opts.perf = 1;
            continue;
        }
        if (a[0] == '-' && a[1] == '-' ) {
            char name[64];
            const char *eq = strchr(a, '=');
            size_t len = eq ? (size_t)(eq - a) : strlen(a);
            if (len >= sizeof name) return usage_error("unknown option '%s'", a);
            memcpy(name, a, len);
            name[len] = '\0';
            const char *val = eq ? eq + 1 : NULL;
            if (!val) {
                bool takes = false;
                for (int k = 0; valued[k]; k++) takes |= strcmp(valued[k], name) == 0;
                if (!takes) return usage_error("unknown option '%s'", a);
                if (i + 1 >= argc) return usage_error("%s needs a value", name);
                val = argv[++i];
            }
            int rc = parse_option(c, name, val);
            if (rc) return rc;
            continue;
        }
        if (a[0] == '-' && a[1] != '\0') return usage_error("unknown option '%s'", a);
        if (c->file) return usage_error("unexpected argument '%s'", a);
        c->file = a;
    }
    if (!c->file && !file_optional) return usage_error("%s", "missing FILE");
    return 0;
}

/* zx_vm_create refused the options: the one option it checks against the machine is the
 * topology (every other value was range-checked while parsing). */
int create_failed(const cli *c, zx_status st)
{
    if (st == ZX_E_ARGUMENT && c->opts.topology)
        return usage_error("bad --topology '%s' (an hwloc synthetic description, or xml:PATH)",
                           c->opts.topology);
    fprintf(stderr, "zexus-jit: cannot create the VM: %s\n", zx_status_str(st));
    return exit_code(st);
}

int report(zx_vm *vm, zx_status st)
{
    if (st == ZX_E_INTERRUPTED && g_timed_out) {
        /* "FILE:LINE:COL: runtime error: interrupted\n  at ..." with the cause put right */
        static const char what[] = "runtime error: interrupted";
        const char *msg = zx_vm_last_error(vm);
        const char *at = strstr(msg, what);
        if (at) fprintf(stderr, "%.*sruntime error: time limit exceeded%s\n", (int)(at - msg), msg, at + strlen(what));
        else fprintf(stderr, "runtime error: time limit exceeded\n");
        return EXIT_RUNTIME;
    }
    if (st != ZX_OK && st != ZX_E_OUTPUT) {
        const char *msg = zx_vm_last_error(vm);
        if (msg[0]) fprintf(stderr, "%s\n", msg);
        else if (st != ZX_E_IO) fprintf(stderr, "%s\n", zx_status_str(st));   /* load_program said it */
    }
    return exit_code(st);
}

/* Read all of standard input (FILE "-"); NULL with errno set when it cannot be read. */
static char *read_stdin(size_t *len)
{
    size_t cap = 65536, n = 0;
    char *b = malloc(cap);
    if (!b) return NULL;
    for (;;) {
        if (n == cap) {
            char *q = realloc(b, cap * 2);
            if (!q) {
                free(b);
                errno = ENOMEM;
                return NULL;
            }
            b = q;
            cap *= 2;
        }
        ssize_t r = read(STDIN_FILENO, b + n, cap - n);
        if (r == 0) break;
        if (r < 0) {
            if (errno == EINTR) continue;
            int e = errno;
            free(b);
            errno = e;
            return NULL;
        }
        n += (size_t)r;
    }
    *len = n;
    return b;
}

/* Load c's program: FILE, standard input for "-" (source, or binary bytecode by its magic),
 * or the string of -e. */
static zx_status load_program(cli *c, zx_vm *vm, zx_program **prog)
{
    if (c->code) return zx_program_load_source(vm, "<string>", c->code, strlen(c->code), prog);
    if (strcmp(c->file, "-") != 0) return zx_program_load_file(vm, c->file, prog);
    size_t len = 0;
    char *data = read_stdin(&len);
    if (!data) {
        fprintf(stderr, "<stdin>: error: cannot read file: %s\n", strerror(errno));
        return ZX_E_IO;
    }
    zx_status st = len >= 4 && memcmp(data, "ZXBC", 4) == 0
                       ? zx_program_load_bytecode(vm, data, len, prog)
                       : zx_program_load_source(vm, "<stdin>", data, len, prog);
    free(data);
    return st;
}

zx_status cli_guarded(cli *c, zx_vm *vm, zx_program *prog, zx_session *sess, const char *src, size_t len)
{
    g_running_vm = vm;
    if (g_sigint) zx_vm_interrupt(vm);   /* a session's Ctrl-C that came since its line was read */
    g_timed_out = 0;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    struct itimerval limit;
    memset(&limit, 0, sizeof limit);
    if (c->max_time > 0) {
        sa.sa_handler = on_alarm;
        sa.sa_flags = SA_RESTART;   /* the VM polls the flag; its output sink waits in
                                       poll(), which a signal ends even so */
        sigaction(SIGALRM, &sa, NULL);
        limit.it_value.tv_sec = (time_t)c->max_time;
        limit.it_value.tv_usec = (suseconds_t)((c->max_time - floor(c->max_time)) * 1e6);
        if (limit.it_value.tv_sec == 0 && limit.it_value.tv_usec == 0) limit.it_value.tv_usec = 1;
        setitimer(ITIMER_REAL, &limit, NULL);
    }
    zx_status st = sess ? zx_session_eval(sess, src, len) : zx_program_run(prog);
    if (c->max_time > 0) {
        memset(&limit, 0, sizeof limit);
        setitimer(ITIMER_REAL, &limit, NULL);
    }
    if (!sess) g_run_over = 1;
    g_running_vm = NULL;
    if (c->stats) {
        char *text;
        if (zx_vm_stats(vm, c->stats == 2, &text) == ZX_OK) {
            fputs(text, stderr);
            free(text);
        }
    }
    return st;
}

static int cmd_run(cli *c)
{
    zx_vm *vm;
    zx_status st = zx_vm_create(&c->opts, &vm);
    if (st != ZX_OK) return create_failed(c, st);
    zx_vm_set_args(vm, c->nargs, (const char *const *)c->args);
    int rank = 0;
    if (c->dist) {
        /* every rank of the MPI job runs this command; rank 0 runs the program, the others
         * serve its parallel maps (docs/distributed.md) */
        st = zx_dist_start(vm, NULL, &rank, NULL);
        if (st != ZX_OK) {
            fprintf(stderr, "%s\n", zx_vm_last_error(vm));
            zx_vm_destroy(vm);
            return EXIT_USAGE;
        }
        if (rank != 0) {
            st = zx_dist_serve(vm);
            if (st != ZX_OK) fprintf(stderr, "%s\n", zx_vm_last_error(vm));
            zx_vm_destroy(vm);
            return st == ZX_OK ? 0 : exit_code(st);
        }
    }
    zx_program *prog;
    /* caught from before loading: a Ctrl-C while --jit=always compiles interrupts the run at
     * its start (cli_guarded), with the message and status 130 of any interrupted run */
    cli_catch_sigint();
    st = load_program(c, vm, &prog);
    bool ran = st == ZX_OK;
    if (st == ZX_OK && c->dist) {
        st = zx_dist_publish(prog);
        ran = st == ZX_OK;
    }
    if (st == ZX_OK) st = cli_guarded(c, vm, prog, NULL, NULL, 0);
    int rc = report(vm, st);
    /* the program loaded, so ZX_E_IO is its standard output failing (a full disk), not
     * unreadable input: a runtime failure, as `echo hi >/dev/full` exits 1 */
    if (ran && st == ZX_E_IO) rc = EXIT_RUNTIME;
    zx_vm_destroy(vm);
    return rc;
}

static int cmd_compile(cli *c)
{
    if (!c->output) return usage_error("%s", "compile needs -o OUT.zxbc");
    zx_vm *vm;
    zx_status st = zx_vm_create(&c->opts, &vm);
    if (st != ZX_OK) return create_failed(c, st);
    zx_program *prog;
    st = load_program(c, vm, &prog);
    if (st == ZX_OK) {
        void *data;
        size_t len;
        st = zx_program_to_bytecode(prog, &data, &len);
        if (st == ZX_OK) {
            FILE *fp = fopen(c->output, "wb");
            bool ok = fp && fwrite(data, 1, len, fp) == len;
            if (fp && fclose(fp) != 0) ok = false;
            if (!ok) {
                fprintf(stderr, "%s: error: cannot write file: %s\n", c->output, strerror(errno));
                free(data);
                zx_vm_destroy(vm);
                return EXIT_USAGE;
            }
            free(data);
        }
    }
    int rc = report(vm, st);
    zx_vm_destroy(vm);
    return rc;
}

static int cmd_disasm(cli *c)
{
    zx_vm *vm;
    zx_status st = zx_vm_create(&c->opts, &vm);
    if (st != ZX_OK) return create_failed(c, st);
    zx_program *prog;
    st = load_program(c, vm, &prog);
    if (st == ZX_OK) {
        char *text;
        st = zx_program_disassemble(prog, &text);
        if (st == ZX_OK) {
            fputs(text, stdout);
            free(text);
        }
    }
    int rc = report(vm, st);
    zx_vm_destroy(vm);
    return rc;
}

static int cmd_chunks(cli *c)
{
    zx_vm *vm;
    zx_status st = zx_vm_create(&c->opts, &vm);
    if (st != ZX_OK) return create_failed(c, st);
    zx_program *prog;
    st = load_program(c, vm, &prog);
    if (st == ZX_OK) {
        char *text;
        st = zx_program_chunks(prog, c->opts.chunk_size,
                               (c->dot ? ZX_CHUNKS_DOT : 0) | (c->all_deps ? ZX_CHUNKS_ALL_DEPS : 0), &text);
        if (st == ZX_OK) {
            fputs(text, stdout);
            free(text);
        }
    }
    int rc = report(vm, st);
    zx_vm_destroy(vm);
    return rc;
}

static int cmd_info(cli *c)
{
    char *text;
    zx_status st = zx_info(c->opts.topology, &text);
    if (st != ZX_OK) {
        fprintf(stderr, "zexus-jit: cannot read the topology%s%s\n", c->opts.topology ? " " : "",
                c->opts.topology ? c->opts.topology : "");
        return EXIT_USAGE;
    }
    fputs(text, stdout);
    free(text);
    return 0;
}

/* Without a command, is the first argument a FILE?  When it names an existing file, has a
 * '/' in it, or ends in .zx, .zxa or .zxbc; else it is an unknown command. */
static bool looks_like_file(const char *a)
{
    size_t n = strlen(a);
    struct stat sb;
    if (strchr(a, '/') || stat(a, &sb) == 0) return true;
    return (n > 3 && strcmp(a + n - 3, ".zx") == 0) || (n > 4 && strcmp(a + n - 4, ".zxa") == 0) ||
           (n > 5 && strcmp(a + n - 5, ".zxbc") == 0);
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    const char *sub = argc >= 2 ? argv[1] : "";
    if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0 || strcmp(sub, "help") == 0) {
        fputs(usage_text, stdout);
        return 0;
    }
    if (strcmp(sub, "--version") == 0) {
        printf("zexus-jit %s (bytecode format %d)\n", zx_version(), ZEXUS_BYTECODE_VERSION);
        return 0;
    }
    if (zx_check_version(ZEXUS_VERSION_MAJOR, ZEXUS_VERSION_MINOR) != ZX_OK) {
        fprintf(stderr, "zexus-jit: library version %s does not match the header %s\n", zx_version(),
                ZEXUS_VERSION_STRING);
        return EXIT_USAGE;
    }
    cli c;
    memset(&c, 0, sizeof c);
    zx_options_init(&c.opts);
    if (strcmp(sub, "info") == 0) {
        for (int i = 2; i < argc; i++) {
            const char *a = argv[i];
            const char *val = strchr(a, '=');
            if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
                fputs(usage_text, stdout);
                return 0;
            }
            if (strncmp(a, "--topology", 10) == 0 && (a[10] == '=' || a[10] == 0)) {
                if (!val && i + 1 < argc) val = argv[++i] - 1;
                if (!val) return usage_error("%s needs a value", "--topology");
                c.opts.topology = val + 1;
            } else {
                return usage_error("unknown option '%s'", a);
            }
        }
        return cmd_info(&c);
    }
    bool is_repl = strcmp(sub, "repl") == 0;
    bool is_run = strcmp(sub, "run") == 0;
    bool implicit = !is_repl && !is_run && strcmp(sub, "compile") != 0 && strcmp(sub, "disasm") != 0 &&
                    strcmp(sub, "chunks") != 0;
    if (implicit && argc >= 2 && sub[0] != '-' && !looks_like_file(sub))
        return usage_error("unknown command '%s'", sub);
    /* without a command every argument is run's; a FILE is then optional */
    int first = implicit ? 1 : 2;
    int rc = parse_args(&c, argc - first, argv + first, is_run || implicit, implicit || is_repl);
    if (rc == HELP_SHOWN) {
        fputs(usage_text, stdout);
        return 0;
    }
    if (rc) return rc;
    if (c.dot && strcmp(sub, "chunks") != 0) return usage_error("%s", "--dot is only for chunks");
    if (c.all_deps && (strcmp(sub, "chunks") != 0 || c.dot))
        return usage_error("%s", "--all-deps is only for chunks, without --dot");
    if (c.output && strcmp(sub, "compile") != 0) return usage_error("%s", "-o is only for compile");
    if (is_repl) {
        if (c.code) return usage_error("unexpected argument '%s'", "-e");
        if (c.file) return usage_error("unexpected argument '%s'", c.file);
        return cmd_repl(&c);
    }
    if (implicit && !c.file) {
        if (isatty(STDIN_FILENO)) return cmd_repl(&c);
        c.file = "-";
    }
    if (is_run || implicit) return cmd_run(&c);
    if (strcmp(sub, "chunks") == 0) return cmd_chunks(&c);
    if (strcmp(sub, "compile") == 0) return cmd_compile(&c);
    return cmd_disasm(&c);
}
