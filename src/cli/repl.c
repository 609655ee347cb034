/* repl.c — the interactive session of zexus-jit: line editing and history (libedit), input
 * that goes on while brackets are open, and a zx_session that keeps the globals. */
#include <errno.h>
#include <fcntl.h>
#include <histedit.h>
#include <limits.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wchar.h>
#include <sys/stat.h>

#include "cli.h"

#define HISTORY_SIZE 1000        /* lines kept in the history file */

/* ---------- is the input complete? ---------- */

/*
 * The input so far goes on on the next line while a (, [ or { is open, a triple-quoted
 * string or a block comment is unterminated.  Strings and comments are skipped so that the
 * brackets inside them do not count.  A closer too many, or a one-line string that ends at the
 * line's end, is complete: the compiler reports it at once.
 */
static bool input_open(const char *s, size_t n)
{
    long depth = 0;
    size_t i = 0;
    while (i < n) {
        char ch = s[i];
        if (ch == '#' || (ch == '/' && i + 1 < n && s[i + 1] == '/')) {
            while (i < n && s[i] != '\n') i++;
            continue;
        }
        if (ch == '/' && i + 1 < n && s[i + 1] == '*') {
            int nest = 1;             /* nested block comments count as the lexer will */
            i += 2;
            while (i < n && nest > 0) {
                if (s[i] == '/' && i + 1 < n && s[i + 1] == '*') nest++, i += 2;
                else if (s[i] == '*' && i + 1 < n && s[i + 1] == '/') nest--, i += 2;
                else i++;
            }
            if (nest > 0) return true;
            continue;
        }
        if (ch == '"' || ch == '\'') {
            if (i + 2 < n && s[i + 1] == ch && s[i + 2] == ch) {   /* """ ... """ */
                i += 3;
                for (;;) {
                    if (i + 2 >= n) return true;
                    if (s[i] == '\\') i += 2;
                    else if (s[i] == ch && s[i + 1] == ch && s[i + 2] == ch) break;
                    else i++;
                }
                i += 3;
                continue;
            }
            i++;
            while (i < n && s[i] != ch && s[i] != '\n') i += s[i] == '\\' && i + 1 < n && s[i + 1] != '\n' ? 2 : 1;
            if (i < n && s[i] == ch) i++;
            continue;
        }
        if (ch == '(' || ch == '[' || ch == '{') depth++;
        else if (ch == ')' || ch == ']' || ch == '}') {
            if (--depth < 0) return false;
        }
        i++;
    }
    return depth > 0;
}

static bool blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r') return false;
    return true;
}

/* ---------- reading lines ---------- */

typedef struct reader {
    bool tty;                    /* standard input is a terminal: libedit, prompts, history */
    EditLine *el;
    History *hist;
    char *hist_path;             /* NULL: no history file */
    const char *prompt;
    char *line;                  /* the non-terminal reader's getline buffer */
    size_t linecap;
} reader;

static reader *g_reader;         /* for the prompt function */

static char *prompt_fn(EditLine *el)
{
    (void)el;
    return (char *)g_reader->prompt;
}

/* libedit's character reader, so that Ctrl-C at the prompt ends el_gets (the built-in one
 * reads again after an interrupted read) and Ctrl-C during a run never reaches it. */
static int getc_fn(EditLine *el, wchar_t *wc)
{
    (void)el;
    mbstate_t ps;
    memset(&ps, 0, sizeof ps);
    for (;;) {
        if (g_sigint) {
            errno = EINTR;
            return -1;
        }
        char ch;
        ssize_t r = read(STDIN_FILENO, &ch, 1);
        if (r == 0) return 0;
        if (r < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        size_t k = mbrtowc(wc, &ch, 1, &ps);
        if (k == (size_t)-2) continue;                 /* more bytes of one character */
        if (k == (size_t)-1) {                         /* not valid here: take the byte */
            memset(&ps, 0, sizeof ps);
            *wc = (unsigned char)ch;
        }
        return 1;
    }
}

/* $ZEXUS_HISTORY (empty: none), else $XDG_STATE_HOME/zexus-jit/history, else
 * ~/.local/state/zexus-jit/history; its folders are made (0700) when missing. */
static char *history_path(void)
{
    const char *env = getenv("ZEXUS_HISTORY");
    if (env) return env[0] ? strdup(env) : NULL;
    const char *state = getenv("XDG_STATE_HOME");
    const char *home = getenv("HOME");
    char path[PATH_MAX];
    int n;
    if (state && state[0] == '/') n = snprintf(path, sizeof path, "%s/zexus-jit/history", state);
    else if (home && home[0]) n = snprintf(path, sizeof path, "%s/.local/state/zexus-jit/history", home);
    else return NULL;
    if (n < 0 || (size_t)n >= sizeof path) return NULL;
    for (char *p = path + 1; *p; p++) {          /* mkdir -p of the folders */
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(path, 0700) != 0 && errno != EEXIST) return NULL;
        *p = '/';
    }
    return strdup(path);
}

static void reader_open(reader *r)
{
    memset(r, 0, sizeof *r);
    g_reader = r;
    r->tty = isatty(STDIN_FILENO);
    if (!r->tty) return;
    setlocale(LC_CTYPE, "");
    r->hist = history_init();
    r->el = el_init("zexus-jit", stdin, stdout, stderr);
    if (!r->hist || !r->el) {
        if (r->el) el_end(r->el);
        if (r->hist) history_end(r->hist);
        r->el = NULL;
        r->hist = NULL;
        r->tty = false;
        return;
    }
    HistEvent ev;
    history(r->hist, &ev, H_SETSIZE, HISTORY_SIZE);
    history(r->hist, &ev, H_SETUNIQUE, 1);
    r->hist_path = history_path();
    if (r->hist_path) history(r->hist, &ev, H_LOAD, r->hist_path);
    el_set(r->el, EL_EDITOR, "emacs");
    el_set(r->el, EL_PROMPT, prompt_fn);
    el_set(r->el, EL_HIST, history, r->hist);
    el_set(r->el, EL_GETCFN, getc_fn);
    el_source(r->el, NULL);      /* ~/.editrc, as every libedit program */
}

static void reader_close(reader *r)
{
    if (r->el) el_end(r->el);
    if (r->hist) history_end(r->hist);
    free(r->hist_path);
    free(r->line);
    g_reader = NULL;
}

/* Add a line to the history and save the file (private to the user). */
static void remember(reader *r, const char *line, size_t len)
{
    if (!r->hist || blank(line, len)) return;
    char *copy = strndup(line, len);
    if (!copy) return;
    if (len && copy[len - 1] == '\n') copy[len - 1] = '\0';
    HistEvent ev;
    history(r->hist, &ev, H_ENTER, copy);
    free(copy);
    if (r->hist_path) {
        int fd = open(r->hist_path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd >= 0) {
            close(fd);
            history(r->hist, &ev, H_SAVE, r->hist_path);
        }
    }
}

enum { READ_LINE, READ_EOF, READ_INTERRUPTED };

/* One line (with its '\n' when it has one) in *line, *len. */
static int read_line(reader *r, const char **line, size_t *len)
{
    if (r->tty) {
        int count = 0;
        g_sigint = 0;
        const char *s = el_gets(r->el, &count);
        if (g_sigint) {
            g_sigint = 0;
            return READ_INTERRUPTED;
        }
        if (!s || count <= 0) return READ_EOF;
        *line = s;
        *len = (size_t)count;
        return READ_LINE;
    }
    errno = 0;
    ssize_t n = getline(&r->line, &r->linecap, stdin);
    if (n < 0) {
        if (errno == EINTR && g_sigint) {
            g_sigint = 0;
            clearerr(stdin);
            return READ_INTERRUPTED;
        }
        return READ_EOF;
    }
    *line = r->line;
    *len = (size_t)n;
    return READ_LINE;
}

/* ---------- the loop ---------- */

typedef struct text {
    char *data;
    size_t len, cap;
} text;

static bool text_add(text *t, const char *s, size_t n)
{
    if (t->len + n + 1 > t->cap) {
        size_t ncap = t->cap ? t->cap * 2 : 256;
        while (ncap < t->len + n + 1) ncap *= 2;
        char *q = realloc(t->data, ncap);
        if (!q) return false;
        t->data = q;
        t->cap = ncap;
    }
    memcpy(t->data + t->len, s, n);
    t->len += n;
    t->data[t->len] = '\0';
    return true;
}

int cmd_repl(cli *c)
{
    zx_vm *vm;
    zx_status st = zx_vm_create(&c->opts, &vm);
    if (st != ZX_OK) return create_failed(c, st);
    zx_session *sess;
    if (zx_session_create(vm, "<stdin>", &sess) != ZX_OK) {
        fprintf(stderr, "zexus-jit: cannot create the session: out of memory\n");
        zx_vm_destroy(vm);
        return EXIT_RUNTIME;
    }
    cli_catch_sigint();
    reader r;
    reader_open(&r);
    if (r.tty)
        fprintf(stderr, "zexus-jit %s interactive session: Ctrl-D leaves, Ctrl-C cancels the input\n",
                zx_version());
    text in = { 0 };
    int rc = 0;
    for (;;) {
        r.prompt = in.len ? "... " : ">>> ";
        const char *line;
        size_t len;
        int got = read_line(&r, &line, &len);
        if (got == READ_INTERRUPTED) {
            if (r.tty) fputs("^C\n", stdout);
            fflush(stdout);
            in.len = 0;
            continue;
        }
        if (got == READ_EOF) {
            if (r.tty) fputs("\n", stdout);
            if (in.len == 0 || blank(in.data, in.len)) break;
            /* input left unfinished at the end: say what is wrong with it, then leave */
            st = cli_guarded(c, vm, NULL, sess, in.data, in.len);
            report(vm, st);
            break;
        }
        remember(&r, line, len);
        bool empty_line = blank(line, len);
        if (!text_add(&in, line, len)) {
            fprintf(stderr, "zexus-jit: out of memory\n");
            rc = EXIT_RUNTIME;
            break;
        }
        if (blank(in.data, in.len)) {
            in.len = 0;
            continue;
        }
        if (input_open(in.data, in.len)) continue;
        st = cli_guarded(c, vm, NULL, sess, in.data, in.len);
        /* `if (x > 1)` with its `{` on the next line: a piece that does not compile changes
         * nothing, so read on and try again; an empty line reports the error */
        if (st == ZX_E_SYNTAX && !empty_line && strstr(zx_vm_last_error(vm), "end of input")) continue;
        in.len = 0;
        g_sigint = 0;
        if (st == ZX_E_OUTPUT) break;  /* standard output is closed: nothing more can be shown */
        report(vm, st);
        fflush(stdout);
    }
    free(in.data);
    reader_close(&r);
    zx_session_destroy(sess);
    zx_vm_destroy(vm);
    return rc;
}
