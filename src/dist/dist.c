/* dist.c — parallel_map across MPI ranks: the session, its communication thread, rank 0's dispatch, the other ranks' serve loop. */
#include "dist/dist.h"

#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "analysis/plan.h"
#include "dist/transport.h"
#include "dist/wire.h"
#include "exec/parallel.h"
#include "exec/run_stats.h"
#include "runtime/build_id.h"
#include "vm/vm.h"

/*
 * docs/distributed.md is the user's view.  The shape of a session:
 *
 *  - Every rank runs the same command under mpirun.  zx_dist_start loads libzexus-dist.so,
 *    initialises MPI and starts the rank's communication thread: the only thread that calls
 *    MPI after init.  It never blocks in MPI: it starts sends (MPI_Isend), tests them, and
 *    polls for messages (MPI_Improbe), sleeping between idle rounds with a back-off from 1 µs
 *    to 1 ms, so oneTBB's workers keep the cores.
 *  - Rank 0 runs the program.  zx_dist_publish sends every other rank the program's .zxbc
 *    bytes, `args`, and a hash of the bytes and of libzexus' build id; each rank loads the
 *    bytes (so code objects are numbered alike everywhere), checks the hash and its own build
 *    id, and answers with its worker count or a refusal.
 *  - A parallel_map that the plan runs in parallel comes to dist_pmap (the hook of
 *    exec/parallel.h).  One MAP message per rank carries the function (code number and captured
 *    cells), the globals it reads (the analysis' summary) and the input; then only block
 *    numbers go out (BATCH), each remote rank keeping about two blocks per worker in flight,
 *    while rank 0's own workers take blocks from the same counter.  A RESULT carries a block's
 *    results, printed output and shared-update log, or says the block failed; rank 0 joins
 *    exactly as a local map does (exec/parallel.c, join_pieces), and a block that failed
 *    remotely, or whose values could not be sent either way, runs again on rank 0 in order at
 *    the join, so its error, trace and the output before it are rank 0's own.
 *  - The other ranks serve (zx_dist_serve): a MAP installs the function, globals and input;
 *    their workers take BATCHes from a queue the communication thread fills, until MAPEND.
 *    QUIT ends the loop.
 */

enum {
    TAG_PROGRAM = 1,   /* 0 -> r: hash, build id, name, args, .zxbc bytes */
    TAG_HELLO,         /* r -> 0: accepted (workers) or refused (why) */
    TAG_MAP,           /* 0 -> r: map id, function, globals, input */
    TAG_BATCH,         /* 0 -> r: map id, block */
    TAG_RESULT,        /* r -> 0: map id, block, outcome, work ns, results, output, log */
    TAG_MAPEND,        /* 0 -> r: map id */
    TAG_QUIT,          /* 0 -> r */
};

enum { RES_OK = 0, RES_FAILED = 1, RES_UNSENDABLE = 2 };

/* Blocks each remote rank keeps in flight, per worker of that rank. */
#define INFLIGHT_PER_WORKER 2
/* The most blocks in one BATCH message. */
#define MAX_BATCH 8
/* Blocks per worker of all ranks (on top of parallel.c's 4 per worker): small blocks toward
 * the end of a map, batched while many are left. */
#define BLOCKS_SCALE 4
/* --mode=auto distributes a map only when its estimated work is at least this, in the plan's
 * cost units (an instruction each, a loop body counted as 100 iterations: analysis/deps.c):
 * ten times what pays for a local parallel region (plan.c, AUTO_MIN_WORK), since a map sent
 * to other ranks costs a message per rank and a round trip per batch, where a local one costs
 * a task. */
#define DIST_MIN_WORK 50000u

#ifndef DIST_MODULE_NAME
#define DIST_MODULE_NAME "libzexus-dist.so"
#endif

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---------- messages and queues ---------- */

typedef struct msg {
    struct msg *next;
    int peer, tag;               /* destination (outgoing) or source (incoming) */
    uint8_t *data;
    size_t len;
    int shared;                  /* outgoing data owned by someone else (a MAP sent to every rank) */
    void *req;                   /* the send in progress */
} msg;

typedef struct msgq {
    msg *head, *tail;
} msgq;

static void q_push(msgq *q, msg *m)
{
    m->next = NULL;
    if (q->tail) q->tail->next = m;
    else q->head = m;
    q->tail = m;
}

static msg *q_pop(msgq *q)
{
    msg *m = q->head;
    if (m) {
        q->head = m->next;
        if (!q->head) q->tail = NULL;
    }
    return m;
}

static void msg_free(msg *m)
{
    if (!m) return;
    if (!m->shared) free(m->data);
    free(m);
}

/* ---------- a map in flight ---------- */

enum { B_LOCAL = 0, B_REMOTE, B_REDO, B_SKIPPED, B_BACK };

typedef struct dist_map {
    uint32_t id;
    zx_pmap_job *job;
    _Atomic uint32_t next;       /* the next block to claim (rank 0's workers and the comm thread) */
    uint8_t *local_only;         /* per block: an element could not be sent */
    uint8_t *state;              /* per block, B_*: written by the comm thread under the lock */
    msg **reply;                 /* per block: its RESULT */
    uint32_t *owner;             /* per block: the rank it went to */
    uint32_t *inflight;          /* per rank */
    uint32_t *blocks_of;         /* per rank: blocks it ran */
    uint64_t *work_ns;           /* per rank: its workers' time in blocks */
    uint32_t outstanding;        /* blocks sent and not back */
    bool all_claimed;            /* the comm thread saw next >= nblocks */
} dist_map;

/* ---------- the session ---------- */

struct zx_dist {
    zx_vm *vm;
    const zx_dist_transport *tp;
    int rank, size;
    pthread_mutex_t lock;
    pthread_cond_t cond;         /* inbox, batches, a map's progress */
    pthread_t comm;
    bool comm_started;
    atomic_int stop, kick;
    msgq outbox;                 /* to be sent (under lock) */
    msgq sending;                /* sends in progress (comm thread only) */
    msgq inbox;                  /* received, for the session's thread (under lock) */
    char fatal[256];             /* the comm thread failed: why (under lock) */
    /* rank 0 */
    zx_program *prog;            /* published */
    wire_codes codes;
    int *workers_of;             /* per rank */
    int total_workers;
    uint32_t next_map;
    dist_map *map;               /* the map the comm thread dispatches (under lock) */
    zx_dist_hook hook;
    atomic_int busy;             /* a map is being distributed: one at a time (a top-level DAG
                                    may reach two maps at once; the second stays local) */
    /* other ranks: the batches of the map being served (under lock) */
    msgq batches;
    uint32_t ended;              /* maps 0 .. ended-1 have ended (MAPEND) */
    int unpinned;                /* this many ranks share this machine unbound: workers not pinned */
};

static void set_fatal(zx_dist *d, const char *why)
{
    pthread_mutex_lock(&d->lock);
    if (!d->fatal[0]) snprintf(d->fatal, sizeof d->fatal, "%s", why);
    pthread_cond_broadcast(&d->cond);
    pthread_mutex_unlock(&d->lock);
}

/* Queue a message (the comm thread sends it); takes data unless shared. */
static bool post(zx_dist *d, int dest, int tag, uint8_t *data, size_t len, int shared)
{
    msg *m = calloc(1, sizeof *m);
    if (!m) {
        if (!shared) free(data);
        return false;
    }
    m->peer = dest;
    m->tag = tag;
    m->data = data;
    m->len = len;
    m->shared = shared;
    pthread_mutex_lock(&d->lock);
    q_push(&d->outbox, m);
    pthread_mutex_unlock(&d->lock);
    atomic_store(&d->kick, 1);
    return true;
}

/* Queue a copy of data for dest. */
static bool post_copy(zx_dist *d, int dest, int tag, const void *data, size_t len)
{
    uint8_t *c = malloc(len ? len : 1);
    if (!c) return false;
    if (len) memcpy(c, data, len);
    return post(d, dest, tag, c, len, 0);
}

static bool post_buf(zx_dist *d, int dest, int tag, wire_buf *b)
{
    if (b->oom) {
        free(b->data);
        return false;
    }
    bool ok = post(d, dest, tag, b->data, b->len, 0);
    memset(b, 0, sizeof *b);
    return ok;
}

/* Rank 0's comm thread: hand blocks to the remote ranks while they have room.  Under lock. */
static bool dispatch(zx_dist *d, dist_map *m)
{
    zx_pmap_job *j = m->job;
    bool any = false;
    for (int r = 1; r < d->size && !m->all_claimed; r++) {
        /* a batch is a few blocks while many are left, one toward the end (guided: each takes
         * what is left over twice the workers), and each remote worker has 2 in flight */
        uint32_t next = atomic_load(&m->next);
        if (next >= j->nblocks) break;
        uint32_t g = (j->nblocks - next) / (uint32_t)(2 * d->total_workers);
        g = g < 1 ? 1 : g > MAX_BATCH ? MAX_BATCH : g;
        uint32_t cap = (uint32_t)(d->workers_of[r] * INFLIGHT_PER_WORKER) * g;
        while (m->inflight[r] + g <= cap) {
            uint32_t first = atomic_fetch_add(&m->next, g);
            if (first >= j->nblocks) {
                m->all_claimed = true;
                break;
            }
            any = true;
            uint32_t cnt = j->nblocks - first < g ? j->nblocks - first : g;
            uint8_t *buf = malloc(8 + 4 * (size_t)cnt);
            msg *s = buf ? calloc(1, sizeof *s) : NULL;
            uint32_t nsend = 0;
            for (uint32_t b = first; b < first + cnt; b++) {
                if (atomic_load(j->first_failed) < b) {
                    m->state[b] = B_SKIPPED;
                } else if (!s || m->local_only[b] || atomic_load(j->t->run->interrupt)) {
                    m->state[b] = B_REDO;      /* here, at the join (an interrupt: the join stops there) */
                } else {
                    memcpy(buf + 8 + 4 * (size_t)nsend++, &b, 4);
                    m->state[b] = B_REMOTE;
                    m->owner[b] = (uint32_t)r;
                    m->inflight[r]++;
                    m->outstanding++;
                }
            }
            if (!nsend) {
                free(buf);
                free(s);
                continue;
            }
            memcpy(buf, &m->id, 4);
            memcpy(buf + 4, &nsend, 4);
            s->peer = r;
            s->tag = TAG_BATCH;
            s->data = buf;
            s->len = 8 + 4 * (size_t)nsend;
            q_push(&d->outbox, s);
        }
    }
    if (atomic_load(&m->next) >= j->nblocks) m->all_claimed = true;
    if (m->all_claimed && m->outstanding == 0) pthread_cond_broadcast(&d->cond);
    return any;
}

/* An incoming message, on the comm thread: a RESULT goes to its map, a BATCH or MAPEND to the
 * served map's queue, anything else to the inbox. */
static void route(zx_dist *d, msg *m)
{
    pthread_mutex_lock(&d->lock);
    if (m->tag == TAG_RESULT && d->rank == 0) {
        dist_map *dm = d->map;
        uint32_t id = 0, b = UINT32_MAX;
        if (m->len >= 8) {
            memcpy(&id, m->data, 4);
            memcpy(&b, m->data + 4, 4);
        }
        if (dm && id == dm->id && b < dm->job->nblocks && dm->state[b] == B_REMOTE && !dm->reply[b]) {
            dm->reply[b] = m;
            dm->state[b] = B_BACK;
            dm->inflight[dm->owner[b]]--;
            dm->outstanding--;
            if (dm->all_claimed && dm->outstanding == 0) pthread_cond_broadcast(&d->cond);
            m = NULL;
        }
        pthread_mutex_unlock(&d->lock);
        msg_free(m);                  /* a stale or malformed result */
        return;
    }
    if (m->tag == TAG_BATCH || m->tag == TAG_MAPEND) {
        if (m->tag == TAG_MAPEND) {
            uint32_t id = 0;
            if (m->len >= 4) memcpy(&id, m->data, 4);
            if (id + 1 > d->ended) d->ended = id + 1;
            msg_free(m);
        } else if (m->len >= 8) {
            q_push(&d->batches, m);
        } else {
            msg_free(m);
        }
    } else {
        q_push(&d->inbox, m);
    }
    pthread_cond_broadcast(&d->cond);
    pthread_mutex_unlock(&d->lock);
}

static void *comm_main(void *arg)
{
    zx_dist *d = arg;
    const zx_dist_transport *tp = d->tp;
    uint64_t backoff = 1000;          /* ns */
    for (;;) {
        bool active = false;
        pthread_mutex_lock(&d->lock);
        msg *m;
        while ((m = q_pop(&d->outbox))) {
            m->req = tp->isend(m->peer, m->tag, m->data, m->len);
            if (!m->req) {
                pthread_mutex_unlock(&d->lock);
                set_fatal(d, "a message could not be sent (too big, or the MPI library failed)");
                msg_free(m);
                pthread_mutex_lock(&d->lock);
                continue;
            }
            q_push(&d->sending, m);
            active = true;
        }
        if (d->map && dispatch(d, d->map)) active = true;
        pthread_mutex_unlock(&d->lock);
        msgq still = { NULL, NULL };
        while ((m = q_pop(&d->sending))) {
            int done = tp->test_send(m->req);
            if (done == 0) {
                q_push(&still, m);
                continue;
            }
            if (done < 0) set_fatal(d, "sending a message failed");
            msg_free(m);
            active = true;
        }
        d->sending = still;
        int src, tag;
        size_t len;
        void *h;
        while (tp->probe(&src, &tag, &len, &h)) {
            msg *in = calloc(1, sizeof *in);
            uint8_t *buf = malloc(len ? len : 1);
            if (!in || !buf || tp->recv(h, buf, len) != 0) {
                free(in);
                free(buf);
                set_fatal(d, "receiving a message failed");
                break;
            }
            in->peer = src;
            in->tag = tag;
            in->data = buf;
            in->len = len;
            route(d, in);
            active = true;
        }
        if (atomic_load(&d->stop) && !d->sending.head) {
            pthread_mutex_lock(&d->lock);
            bool empty = !d->outbox.head;
            pthread_mutex_unlock(&d->lock);
            if (empty) break;
        }
        if (atomic_exchange(&d->kick, 0)) active = true;
        if (active) {
            backoff = 1000;
        } else {
            struct timespec ts = { 0, (long)backoff };
            nanosleep(&ts, NULL);
            backoff = backoff * 2 > 1000000 ? 1000000 : backoff * 2;
        }
    }
    return NULL;
}

/* The next inbox message (waits); NULL when the comm thread failed. */
static msg *inbox_wait(zx_dist *d)
{
    pthread_mutex_lock(&d->lock);
    msg *m;
    while (!(m = q_pop(&d->inbox)) && !d->fatal[0]) pthread_cond_wait(&d->cond, &d->lock);
    pthread_mutex_unlock(&d->lock);
    return m;
}

/* ---------- the module and the session ---------- */

static const zx_dist_transport *load_module(char *err, size_t errsz)
{
    void *h = NULL;
    char why[512] = "";
    const char *env = getenv("ZEXUS_DIST_MODULE");
    if (env && env[0]) {
        h = dlopen(env, RTLD_NOW | RTLD_LOCAL);
        if (!h) snprintf(why, sizeof why, "%s", dlerror());
    } else {
        Dl_info info;
        if (dladdr((void *)load_module, &info) && info.dli_fname) {
            const char *slash = strrchr(info.dli_fname, '/');
            char path[4096];
            if (slash) {
                snprintf(path, sizeof path, "%.*s/%s", (int)(slash - info.dli_fname), info.dli_fname, DIST_MODULE_NAME);
                h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
                if (!h) snprintf(why, sizeof why, "%s", dlerror());
#ifdef JIT_BIN_TO_LIBDIR
                if (!h) {
                    snprintf(path, sizeof path, "%.*s/%s/%s", (int)(slash - info.dli_fname), info.dli_fname,
                             JIT_BIN_TO_LIBDIR, DIST_MODULE_NAME);
                    h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
                }
#endif
            }
        }
#ifdef JIT_INSTALL_LIBDIR
        if (!h) h = dlopen(JIT_INSTALL_LIBDIR "/" DIST_MODULE_NAME, RTLD_NOW | RTLD_LOCAL);
#endif
    }
    if (!h) {
        snprintf(err, errsz, "--dist is unavailable: this build has no MPI module (%s: %s)", DIST_MODULE_NAME,
                 why[0] ? why : "not found");
        return NULL;
    }
    const zx_dist_transport *tp = dlsym(h, ZX_DIST_TRANSPORT_SYMBOL);
    if (!tp || tp->abi != ZX_DIST_TRANSPORT_ABI) {
        snprintf(err, errsz, "--dist is unavailable: %s was built for another libzexus", DIST_MODULE_NAME);
        return NULL;
    }
    return tp;
}

/*
 * Pinning.  A rank pins its workers to the first cores it may use (--pin=on), which is right
 * when mpirun binds each rank to cores of its own (--bind-to core).  Ranks that share a
 * machine without being bound apart (--bind-to none, Open MPI's socket binding of more than
 * two ranks on a one-socket machine) would all pin to the same first cores and run one at a
 * time, so such a rank leaves its workers unpinned.  The launcher says how many ranks run on
 * this machine (OMPI_COMM_WORLD_LOCAL_SIZE, MPICH's MPI_LOCALNRANKS); a rank counts as bound
 * apart when it may use no more than its share of the machine's processors.
 */
static int ranks_sharing_unbound(void)
{
    const char *v = getenv("OMPI_COMM_WORLD_LOCAL_SIZE");
    if (!v || !*v) v = getenv("MPI_LOCALNRANKS");
    long local = v && *v ? strtol(v, NULL, 10) : 1;
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    cpu_set_t set;
    if (local < 2 || online < 1 || sched_getaffinity(0, sizeof set, &set) != 0) return 0;
    return (long)CPU_COUNT(&set) * local > online ? (int)local : 0;
}

zx_status zx_dist_start(zx_vm *vm, const void *comm, int *rank, int *size)
{
    if (!vm) return ZX_E_ARGUMENT;
    if (vm->dist) {
        if (rank) *rank = vm->dist->rank;
        if (size) *size = vm->dist->size;
        return ZX_OK;
    }
    char err[600];
    const zx_dist_transport *tp = load_module(err, sizeof err);
    if (!tp) {
        zx_vm_set_error(vm, "zexus-jit: %s", err);
        return ZX_E_UNSUPPORTED;
    }
    zx_dist *d = calloc(1, sizeof *d);
    if (!d) return ZX_E_MEMORY;
    d->vm = vm;
    d->tp = tp;
    pthread_mutex_init(&d->lock, NULL);
    pthread_cond_init(&d->cond, NULL);
    if (tp->init(comm, &d->rank, &d->size, err, sizeof err) != 0) {
        zx_vm_set_error(vm, "zexus-jit: --dist: %s", err);
        free(d);
        return ZX_E_UNSUPPORTED;
    }
    if (pthread_create(&d->comm, NULL, comm_main, d) != 0) {
        tp->finalize();
        free(d);
        return ZX_E_MEMORY;
    }
    d->comm_started = true;
    if (vm->opts.pin && (d->unpinned = ranks_sharing_unbound()) > 0) vm->opts.pin = 0;
    vm->dist = d;
    if (rank) *rank = d->rank;
    if (size) *size = d->size;
    return ZX_OK;
}

/* Stop the comm thread once everything queued is sent, then MPI. */
static void shut_down(zx_dist *d)
{
    if (d->comm_started) {
        atomic_store(&d->stop, 1);
        pthread_join(d->comm, NULL);
        d->comm_started = false;
        d->tp->finalize();
    }
}

zx_status zx_dist_end(zx_vm *vm)
{
    if (!vm || !vm->dist) return ZX_OK;
    zx_dist *d = vm->dist;
    if (d->rank == 0)
        for (int r = 1; r < d->size; r++) post(d, r, TAG_QUIT, NULL, 0, 1);
    shut_down(d);
    return ZX_OK;
}

void zx_dist_destroy(zx_dist *d)
{
    if (!d) return;
    if (d->comm_started) {
        if (d->rank == 0)
            for (int r = 1; r < d->size; r++) post(d, r, TAG_QUIT, NULL, 0, 1);
        shut_down(d);
    }
    msg *m;
    while ((m = q_pop(&d->inbox))) msg_free(m);
    while ((m = q_pop(&d->batches))) msg_free(m);
    while ((m = q_pop(&d->outbox))) msg_free(m);
    wire_codes_free(&d->codes);
    free(d->workers_of);
    pthread_mutex_destroy(&d->lock);
    pthread_cond_destroy(&d->cond);
    free(d);
}

zx_status zx_dist_rank(zx_vm *vm, int *rank, int *size)
{
    if (!vm || !vm->dist) return ZX_E_NOT_FOUND;
    if (rank) *rank = vm->dist->rank;
    if (size) *size = vm->dist->size;
    return ZX_OK;
}

/* ---------- what identifies a build and a program ---------- */

/* "VERSION/GNU-build-id-in-hex" of the object holding libzexus (the executable or
 * libzexus.so); ZEXUS_DIST_BUILD_SUFFIX is appended (tests make a rank differ with it). */
static void build_id_text(char *out, size_t size)
{
    build_id b = { (uintptr_t)(void *)build_id_text, NULL, 0 };
    dl_iterate_phdr(find_build_id, &b);
    size_t k = (size_t)snprintf(out, size, "%s/", zx_version());
    for (size_t i = 0; i < b.len && k + 3 < size; i++) k += (size_t)snprintf(out + k, size - k, "%02x", b.id[i]);
    if (!b.id) snprintf(out + k, size - k, "%s", __DATE__ " " __TIME__);
    const char *sfx = getenv("ZEXUS_DIST_BUILD_SUFFIX");
    if (sfx) {
        k = strlen(out);
        snprintf(out + k, size - k, "%s", sfx);
    }
}

static uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
    const uint8_t *s = p;
    for (size_t i = 0; i < n; i++) h = (h ^ s[i]) * 0x100000001b3ull;
    return h;
}

static uint64_t program_hash(const void *zxbc, size_t len, const char *build)
{
    uint64_t h = fnv1a(0xcbf29ce484222325ull, zxbc, len);
    return fnv1a(h, build, strlen(build));
}

static void put_str(wire_buf *b, const char *s)
{
    uint32_t n = (uint32_t)strlen(s);
    wire_u32(b, n);
    wire_put(b, s, n);
}

/* A string of the message (malloc'ed), or NULL. */
static char *get_str(wire_reader *r)
{
    uint32_t n = wire_get_u32(r);
    if (r->bad || (size_t)(r->end - r->p) < n) {
        r->bad = true;
        return NULL;
    }
    char *s = malloc((size_t)n + 1);
    if (!s) return NULL;
    memcpy(s, r->p, n);
    s[n] = '\0';
    r->p += n;
    return s;
}

/* ---------- rank 0: publishing the program ---------- */

static int dist_workers(void *ctx) { return ((zx_dist *)ctx)->total_workers * BLOCKS_SCALE; }
static bool dist_pays(void *ctx, uint64_t work) { (void)ctx; return work >= DIST_MIN_WORK; }
static zx_status dist_pmap(void *ctx, zx_pmap_job *j);

zx_status zx_dist_publish(zx_program *p)
{
    if (!p || !p->vm) return ZX_E_ARGUMENT;
    zx_vm *vm = p->vm;
    zx_dist *d = vm->dist;
    if (!d) {
        zx_vm_set_error(vm, "zexus-jit: --dist: no session (zx_dist_start)");
        return ZX_E_ARGUMENT;
    }
    if (d->rank != 0) {
        zx_vm_set_error(vm, "zexus-jit: --dist: only rank 0 publishes a program");
        return ZX_E_ARGUMENT;
    }
    if (d->prog) {
        zx_vm_set_error(vm, "zexus-jit: --dist: a program was published already");
        return ZX_E_ARGUMENT;
    }
    void *bytes;
    size_t len;
    zx_status st = zx_program_to_bytecode(p, &bytes, &len);
    if (st != ZX_OK) return st;
    char build[256];
    build_id_text(build, sizeof build);
    wire_buf b = { 0 };
    wire_u64(&b, program_hash(bytes, len, build));
    put_str(&b, build);
    put_str(&b, p->source_name);
    wire_u32(&b, (uint32_t)vm->argc);
    for (int i = 0; i < vm->argc; i++) put_str(&b, vm->argv[i]);
    wire_u64(&b, len);
    wire_put(&b, bytes, len);
    free(bytes);
    if (b.oom) {
        free(b.data);
        return ZX_E_MEMORY;
    }
    if (!wire_codes_init(&d->codes, p)) {
        free(b.data);
        return ZX_E_MEMORY;
    }
    d->workers_of = calloc((size_t)d->size, sizeof *d->workers_of);
    if (!d->workers_of) {
        free(b.data);
        return ZX_E_MEMORY;
    }
    for (int r = 1; r < d->size; r++)
        if (!post_copy(d, r, TAG_PROGRAM, b.data, b.len)) set_fatal(d, "out of memory for the program message");
    free(b.data);
    int answered = 0;
    char refusal[512] = "";
    while (answered < d->size - 1) {
        msg *m = inbox_wait(d);
        if (!m) break;
        if (m->tag == TAG_HELLO) {
            wire_reader r = { m->data, m->data + m->len, false };
            uint8_t ok = wire_get_u8(&r);
            uint32_t w = wire_get_u32(&r);
            char *why = get_str(&r);
            if (ok && !r.bad && m->peer > 0 && m->peer < d->size) {
                d->workers_of[m->peer] = w ? (int)w : 1;
            } else if (!refusal[0]) {
                snprintf(refusal, sizeof refusal, "rank %d refused the program: %s", m->peer,
                         why ? why : "a malformed answer");
            }
            free(why);
            answered++;
        }
        msg_free(m);
    }
    pthread_mutex_lock(&d->lock);
    char fatal[256];
    snprintf(fatal, sizeof fatal, "%s", d->fatal);
    pthread_mutex_unlock(&d->lock);
    if (fatal[0] || refusal[0]) {
        zx_vm_set_error(vm, "zexus-jit: --dist: %s", fatal[0] ? fatal : refusal);
        return ZX_E_VERSION;
    }
    d->workers_of[0] = zx_vm_worker_count(vm);
    d->total_workers = 0;
    for (int r = 0; r < d->size; r++) d->total_workers += d->workers_of[r];
    d->prog = p;
    d->hook.ctx = d;
    d->hook.workers = dist_workers;
    d->hook.pays = dist_pays;
    d->hook.pmap = dist_pmap;
    return ZX_OK;
}

const zx_dist_hook *zx_dist_hook_for(zx_dist *d, zx_program *p)
{
    return d && d->rank == 0 && d->prog == p && d->size > 1 ? &d->hook : NULL;
}

/* ---------- rank 0: one parallel_map ---------- */

static void local_body(void *ctx, size_t begin, size_t end, int slot)
{
    (void)slot;
    dist_map *m = ctx;
    zx_pmap_job *j = m->job;
    for (size_t k = begin; k < end; k++) {
        uint64_t t0 = now_ns();
        uint32_t nb = 0;
        for (;;) {
            uint32_t b = atomic_fetch_add(&m->next, 1);
            if (b >= j->nblocks) break;
            m->state[b] = B_LOCAL;
            zx_pmap_job_run_block(j, b);
            nb++;
        }
        uint64_t dt = now_ns() - t0;
        __atomic_fetch_add(&m->work_ns[0], dt, __ATOMIC_RELAXED);
        __atomic_fetch_add(&m->blocks_of[0], nb, __ATOMIC_RELAXED);
    }
}

static void map_free(dist_map *m, int size)
{
    if (!m) return;
    if (m->reply)
        for (uint32_t b = 0; b < m->job->nblocks; b++) msg_free(m->reply[b]);
    free(m->local_only);
    free(m->state);
    free(m->reply);
    free(m->owner);
    free(m->inflight);
    free(m->blocks_of);
    free(m->work_ns);
    (void)size;
    free(m);
}

/* Decode block b's RESULT into the job; false when it must run again here. */
static bool take_result(zx_dist *d, zx_pmap_job *j, dist_map *m, uint32_t b)
{
    msg *rm = m->reply[b];
    wire_reader r = { rm->data + 8, rm->data + rm->len, false };
    uint8_t outcome = wire_get_u8(&r);
    uint64_t work = wire_get_u64(&r);
    m->work_ns[m->owner[b]] += work;
    m->blocks_of[m->owner[b]]++;
    if (r.bad || outcome != RES_OK) return false;
    uint32_t lo = b * j->per_block, hi = lo + j->per_block;
    if (hi > j->n) hi = j->n;
    uint32_t cnt = hi - lo;
    zx_run *run = j->t->run;
    zx_value *res = calloc(cnt ? cnt : 1, sizeof *res);
    zx_shared_log log = { 0 };
    bool ok = res != NULL;
    wire_dec dec;
    wire_dec_init(&dec, &r, run->heap, run->prog, &d->codes);
    for (uint32_t i = 0; ok && i < cnt; i++) ok = wire_get_value(&dec, &res[i], NULL);
    char *out = NULL;
    uint64_t outlen = ok ? wire_get_u64(&r) : 0;
    if (ok && !r.bad && (uint64_t)(r.end - r.p) >= outlen) {
        out = (char *)r.p;
        r.p += outlen;
    } else {
        ok = false;
    }
    uint32_t nlog = ok ? wire_get_u32(&r) : 0;
    for (uint32_t k = 0; ok && k < nlog; k++) {
        uint32_t g = wire_get_u32(&r);
        int32_t op = (int32_t)wire_get_u32(&r);
        zx_value rhs;
        ok = !r.bad && g < run->prog->nglobals && wire_get_value(&dec, &rhs, NULL);
        if (!ok) break;
        if (log.n == log.cap) {
            size_t nc = log.cap ? log.cap * 2 : 16;
            zx_shared_entry *e = realloc(log.e, nc * sizeof *e);
            if (!e) {
                zx_decref(rhs);
                ok = false;
                break;
            }
            log.e = e;
            log.cap = nc;
        }
        log.e[log.n++] = (zx_shared_entry){ g, op, rhs };
    }
    wire_dec_free(&dec);
    if (ok) zx_pmap_job_block_done(j, b, res, out, (size_t)outlen, &log);
    else
        for (uint32_t i = 0; i < cnt && res; i++) zx_decref(res[i]);
    zx_shared_log_free(&log);
    free(res);
    return ok;
}

static zx_status dist_pmap_one(zx_dist *d, zx_pmap_job *j, zx_run_stats *stats, zx_pos pos, const char *file);

static zx_status dist_pmap(void *ctx, zx_pmap_job *j)
{
    zx_dist *d = ctx;
    zx_run *run = j->t->run;
    zx_run_stats *stats = run->stats;
    zx_pos pos = j->f->code->positions[j->f->pc];
    const char *file = run->prog->source_name;
    int expect = 0;
    if (!atomic_compare_exchange_strong(&d->busy, &expect, 1)) {
        zx_stats_note(stats, "parallel_map at %s:%u:%u was not distributed: another map was being distributed",
                      file, pos.line, pos.col);
        return ZX_E_UNSUPPORTED;
    }
    zx_status st = dist_pmap_one(d, j, stats, pos, file);
    atomic_store(&d->busy, 0);
    return st;
}

static zx_status dist_pmap_one(zx_dist *d, zx_pmap_job *j, zx_run_stats *stats, zx_pos pos, const char *file)
{
    zx_run *run = j->t->run;
    const zx_plan *pl = run->plan;
    char why[200] = "";
    uint64_t cost = 0;
    plan_pmap_blocker(pl, j->fn, &cost);
    if (run->prog != d->prog) snprintf(why, sizeof why, "not the published program");
    else if (pl->mode == ZX_MODE_AUTO && cost * j->n < DIST_MIN_WORK)
        snprintf(why, sizeof why, "too little work to pay for other ranks (--mode=auto: estimated %llu < %u)",
                 (unsigned long long)(cost * j->n), DIST_MIN_WORK);
    /* the MAP message: the function, the globals it reads, the input */
    wire_buf b = { 0 };
    wire_enc enc;
    wire_enc_init(&enc, &b, &d->codes);
    /* reading the values and, below, making the results: as a heap mutator (the caller
     * stepped out for the wait; neither phase waits for anything) */
    zx_heap_mutator_enter(run->heap);
    dist_map *m = NULL;
    uint32_t id = d->next_map++;
    if (!why[0]) {
        wire_u32(&b, id);
        wire_u32(&b, j->n);
        wire_u32(&b, j->per_block);
        if (!wire_put_value(&enc, j->fn)) snprintf(why, sizeof why, "the function holds %s", enc.why);
    }
    if (!why[0]) {
        /* the globals the function may read: the analysis' summary (every global when it calls
         * something the analysis cannot resolve) */
        const analysis_code *ac = zx_is_type(j->fn, ZX_O_FUNC) && pl->a ? analysis_code_of(pl->a, ZX_AS_FUNC(j->fn)->code) : NULL;
        uint32_t ng = run->prog->nglobals;
        bool all = !ac || ac->summary.calls_unknown;
        uint32_t cnt = 0;
        /* the summary's reads and the globals holding the actions it calls (analysis.h: fixed) */
        uint32_t *reads = NULL, nreads = 0;
        if (zx_is_type(j->fn, ZX_O_BUILTIN)) {
            all = false;
        } else if (!all && !analysis_reads_closure(pl->a, ac, &reads, &nreads)) {
            all = true;
        }
        if (all) cnt = ng;
        else
            for (uint32_t k = 0; k < nreads; k++) cnt += reads[k] < ng;
        wire_u32(&b, cnt);
        for (uint32_t k = 0, g; !why[0] && k < (all ? cnt : nreads); k++) {
            g = all ? k : reads[k];
            if (g >= ng) continue;
            wire_u32(&b, g);
            if (!wire_put_value(&enc, *run->gvar[g]))
                snprintf(why, sizeof why, "global '%s' holds %s", run->prog->globals[g].name, enc.why);
        }
        free(reads);
    }
    if (!why[0]) {
        m = calloc(1, sizeof *m);
        if (m) {
            m->local_only = calloc(j->nblocks, 1);
            m->state = calloc(j->nblocks, 1);
            m->reply = calloc(j->nblocks, sizeof *m->reply);
            m->owner = calloc(j->nblocks, sizeof *m->owner);
            m->inflight = calloc((size_t)d->size, sizeof *m->inflight);
            m->blocks_of = calloc((size_t)d->size, sizeof *m->blocks_of);
            m->work_ns = calloc((size_t)d->size, sizeof *m->work_ns);
        }
        if (!m || !m->local_only || !m->state || !m->reply || !m->owner || !m->inflight || !m->blocks_of ||
            !m->work_ns)
            snprintf(why, sizeof why, "out of memory");
        else
            m->job = j;
    }
    uint32_t unsent = 0;
    for (uint32_t i = 0; !why[0] && i < j->n; i++) {
        /* an element that cannot be sent is left out, and its block runs here */
        size_t mark = b.len;
        uint32_t nobj = enc.nobj;
        if (!wire_put_value(&enc, zx_list_get(j->in, i))) {
            if (b.oom) {
                snprintf(why, sizeof why, "out of memory");
                break;
            }
            b.len = mark;
            enc.why = NULL;
            wire_enc_rollback(&enc, nobj);
            if (enc.why) {
                snprintf(why, sizeof why, "out of memory");
                break;
            }
            wire_put_unsent(&enc);
            m->local_only[i / j->per_block] = 1;
            unsent++;
        }
    }
    zx_heap_mutator_leave(run->heap);
    if (why[0]) {
        zx_stats_note(stats, "parallel_map at %s:%u:%u was not distributed: %s", file, pos.line, pos.col, why);
        wire_enc_free(&enc);
        free(b.data);
        map_free(m, d->size);
        return ZX_E_UNSUPPORTED;
    }
    wire_enc_free(&enc);
    /* start: every remote rank gets the MAP, then the comm thread hands out blocks */
    uint64_t t0 = now_ns();
    m->id = id;
    atomic_init(&m->next, 0);
    for (int r = 1; r < d->size; r++)
        if (!post_copy(d, r, TAG_MAP, b.data, b.len)) set_fatal(d, "out of memory for a map message");
    pthread_mutex_lock(&d->lock);
    d->map = m;
    pthread_mutex_unlock(&d->lock);
    atomic_store(&d->kick, 1);
    int slots = d->workers_of[0] > 0 ? d->workers_of[0] : 1;
    /* ZEXUS_DIST_RANK0_IDLE=1 (tests): rank 0's workers take no block, so every block that can
     * be sent goes to another rank */
    const char *idle = getenv("ZEXUS_DIST_RANK0_IDLE");
    if (!(idle && idle[0] == '1')) {
        tbbshim_status ts = tbbshim_parallel_for(j->ex, (size_t)slots, 1, local_body, m, NULL);
        if (ts == TBBSHIM_ERROR) local_body(m, 0, 1, 0);   /* the shim failed: claim the rest here */
    }
    pthread_mutex_lock(&d->lock);
    while (!(m->all_claimed && m->outstanding == 0) && !d->fatal[0]) pthread_cond_wait(&d->cond, &d->lock);
    d->map = NULL;
    char fatal[256];
    snprintf(fatal, sizeof fatal, "%s", d->fatal);
    pthread_mutex_unlock(&d->lock);
    uint64_t wall = now_ns() - t0;
    for (int r = 1; r < d->size; r++) {
        uint8_t *e = malloc(4);
        if (e) {
            memcpy(e, &id, 4);
            post(d, r, TAG_MAPEND, e, 4, 0);
        }
    }
    /* the blocks: results in, or run again here at the join */
    zx_heap_mutator_enter(run->heap);
    uint32_t redo = 0, remote = 0;
    for (uint32_t bk = 0; bk < j->nblocks; bk++) {
        switch (m->state[bk]) {
        case B_LOCAL: break;
        case B_BACK:
            remote++;
            if (!take_result(d, j, m, bk)) {
                zx_pmap_job_block_redo(j, bk);
                redo++;
            }
            break;
        case B_SKIPPED: zx_pmap_job_block_skipped(j, bk); break;
        case B_REMOTE:            /* lost with the comm thread (fatal): run it here */
        case B_REDO:
        default:
            zx_pmap_job_block_redo(j, bk);
            redo++;
            break;
        }
    }
    zx_heap_mutator_leave(run->heap);
    char line[400];
    size_t k = (size_t)snprintf(line, sizeof line,
                                "parallel_map at %s:%u:%u distributed over %d ranks: %u blocks of %u, %u ran remotely, "
                                "%u again on rank 0 (%u elements could not be sent); wall %.1f ms;",
                                file, pos.line, pos.col, d->size, j->nblocks, j->per_block, remote, redo,
                                unsent, wall / 1e6);
    for (int r = 0; r < d->size && k < sizeof line; r++) {
        double work = m->work_ns[r] / 1e6, avail = (double)wall / 1e6 * (d->workers_of[r] > 0 ? d->workers_of[r] : 1);
        k += (size_t)snprintf(line + k, sizeof line - k, " rank %d: %u blocks, work %.1f ms, waited %.1f ms;", r,
                              m->blocks_of[r], work, avail > work ? avail - work : 0.0);
    }
    zx_stats_note(stats, "%s", line);
    if (d->unpinned)
        zx_stats_note(stats, "--dist: %d ranks share this machine and mpirun did not bind them to cores of "
                      "their own: workers not pinned (mpirun --bind-to core pins them)", d->unpinned);
    if (fatal[0]) zx_stats_note(stats, "--dist: %s", fatal);
    map_free(m, d->size);
    free(b.data);
    return ZX_OK;
}

/* ---------- the other ranks ---------- */

typedef struct serve_map {
    zx_dist *d;
    zx_run *run;
    zx_frame *f;                 /* the top level's frame: the caller of every element */
    uint32_t id, n, per_block;
    zx_value fn;
    zx_list *in;
} serve_map;

/* Run block b of the served map and post its RESULT. */
static void serve_block(serve_map *sm, uint32_t b)
{
    zx_dist *d = sm->d;
    zx_run *run = sm->run;
    uint64_t t0 = now_ns();
    uint32_t lo = b * sm->per_block, hi = lo + sm->per_block;
    if (hi > sm->n) hi = sm->n;
    if (lo > hi) lo = hi;
    zx_value *res = calloc((size_t)(hi - lo) + 1, sizeof *res);
    zx_task task;
    zx_task_init(&task, run, sm->f);
    zx_shared_log log = { 0 };
    task.shared_log = &log;
    zx_heap_mutator_enter(run->heap);
    uint8_t outcome = res && sm->in ? RES_OK : RES_FAILED;
    for (uint32_t i = lo; i < hi && outcome == RES_OK; i++) {
        zx_value elem = zx_list_get(sm->in, i);
        if (elem.tag == ZX_T_UNDEF) outcome = RES_UNSENDABLE;   /* not sent (rank 0 runs it) */
        task.pmap_element = (long)i;
        if (outcome == RES_OK && zx_interp_call(&task, sm->f, sm->fn, &elem, 1, &res[i - lo]) != ZX_OK)
            outcome = RES_FAILED;
    }
    wire_buf w = { 0 };
    wire_u32(&w, sm->id);
    wire_u32(&w, b);
    size_t at = w.len;
    wire_u8(&w, outcome);
    wire_u64(&w, 0);
    if (outcome == RES_OK) {
        wire_enc enc;
        wire_enc_init(&enc, &w, &d->codes);
        bool ok = true;
        for (uint32_t i = lo; i < hi && ok; i++) ok = wire_put_value(&enc, res[i - lo]);
        if (ok) {
            wire_u64(&w, task.out.len);
            wire_put(&w, task.out.data, task.out.len);
            wire_u32(&w, (uint32_t)log.n);
            for (size_t k = 0; k < log.n && ok; k++) {
                wire_u32(&w, log.e[k].global);
                wire_u32(&w, (uint32_t)log.e[k].op);
                ok = wire_put_value(&enc, log.e[k].rhs);
            }
        }
        wire_enc_free(&enc);
        if (!ok || w.oom) {
            w.oom = false;
            w.len = at;
            wire_u8(&w, RES_UNSENDABLE);
            wire_u64(&w, 0);
        }
    }
    for (uint32_t i = lo; i < hi && res; i++) zx_decref(res[i - lo]);
    free(res);
    zx_shared_log_free(&log);
    zx_task_fini(&task);
    zx_heap_mutator_leave(run->heap);
    uint64_t dt = now_ns() - t0;
    if (!w.oom) memcpy(w.data + at + 1, &dt, 8);
    if (!post_buf(d, 0, TAG_RESULT, &w)) set_fatal(d, "out of memory for a result");
}

static void serve_body(void *ctx, size_t begin, size_t end, int slot)
{
    (void)slot;
    serve_map *sm = ctx;
    zx_dist *d = sm->d;
    for (size_t k = begin; k < end; k++) {
        for (;;) {
            /* this map's batches come before MAPEND, and MAPEND before the next map's */
            pthread_mutex_lock(&d->lock);
            msg *m = NULL;
            uint32_t id = 0, b = 0;
            for (;;) {
                if (d->batches.head) {
                    memcpy(&id, d->batches.head->data, 4);
                    if (id == sm->id) m = q_pop(&d->batches);
                    else if (id < sm->id) {       /* a stale one */
                        msg_free(q_pop(&d->batches));
                        continue;
                    }
                    break;
                }
                if (d->ended > sm->id || d->fatal[0]) break;
                pthread_cond_wait(&d->cond, &d->lock);
            }
            pthread_mutex_unlock(&d->lock);
            if (!m) break;
            uint32_t cnt = 0;
            memcpy(&cnt, m->data + 4, 4);
            for (uint32_t k2 = 0; k2 < cnt && 8 + 4 * (size_t)(k2 + 1) <= m->len; k2++) {
                memcpy(&b, m->data + 8 + 4 * (size_t)k2, 4);
                serve_block(sm, b);
            }
            msg_free(m);
        }
    }
}

typedef struct serve_ctx {
    zx_dist *d;
    zx_run *run;
    zx_frame *f;
    zx_status st;
} serve_ctx;

/* Install a MAP and serve its blocks until MAPEND. */
static void serve_map_msg(serve_ctx *sc, msg *m)
{
    zx_dist *d = sc->d;
    zx_run *run = sc->run;
    wire_reader r = { m->data, m->data + m->len, false };
    serve_map sm = { d, run, sc->f, 0, 0, 0, zx_undef(), NULL };
    sm.id = wire_get_u32(&r);
    sm.n = wire_get_u32(&r);
    sm.per_block = wire_get_u32(&r);
    wire_dec dec;
    wire_dec_init(&dec, &r, run->heap, run->prog, &d->codes);
    zx_heap_mutator_enter(run->heap);
    bool ok = wire_get_value(&dec, &sm.fn, NULL);
    uint32_t ng = ok ? wire_get_u32(&r) : 0;
    for (uint32_t k = 0; ok && k < ng; k++) {
        uint32_t g = wire_get_u32(&r);
        zx_value v;
        ok = !r.bad && g < run->prog->nglobals && wire_get_value(&dec, &v, NULL);
        if (!ok) break;
        zx_value old = *run->gvar[g];
        *run->gvar[g] = v;
        zx_decref(old);
    }
    zx_list *in = ok ? zx_list_new(run->heap, sm.n) : NULL;
    for (uint32_t i = 0; ok && in && i < sm.n; i++) {
        zx_value v;
        bool unsent = false;
        ok = wire_get_value(&dec, &v, &unsent);
        if (ok) {
            ok = zx_list_push(run->heap, in, unsent ? zx_undef() : v);
            zx_decref(v);
        }
    }
    wire_dec_free(&dec);
    zx_heap_mutator_leave(run->heap);
    sm.in = in;
    if (!ok || !in || sm.per_block == 0) {
        /* every block of it fails here: rank 0 runs them again */
        sm.n = 0;
    }
    tbbshim_executor *ex = NULL;
    char err[256];
    if (run->sched) ex = zx_sched_executor(run->sched, err, sizeof err);
    int w = ex ? zx_vm_worker_count(d->vm) : 1;
    if (ex) tbbshim_parallel_for(ex, (size_t)w, 1, serve_body, &sm, NULL);
    else serve_body(&sm, 0, 1, 0);
    zx_decref(sm.fn);
    if (in) zx_obj_decref(in);
}

static zx_status serve_job(void *ctx)
{
    serve_ctx *sc = ctx;
    zx_dist *d = sc->d;
    for (;;) {
        msg *m = inbox_wait(d);
        if (!m) return ZX_E_IO;
        int tag = m->tag;
        if (tag == TAG_MAP) serve_map_msg(sc, m);
        msg_free(m);
        if (tag == TAG_QUIT) return ZX_OK;
    }
}

static void hello(zx_dist *d, bool ok, int workers, const char *why)
{
    wire_buf w = { 0 };
    wire_u8(&w, ok);
    wire_u32(&w, (uint32_t)workers);
    put_str(&w, why ? why : "");
    post_buf(d, 0, TAG_HELLO, &w);
}

zx_status zx_dist_serve(zx_vm *vm)
{
    if (!vm || !vm->dist) return ZX_E_ARGUMENT;
    zx_dist *d = vm->dist;
    if (d->rank == 0) {
        zx_vm_set_error(vm, "zexus-jit: --dist: rank 0 runs the program; only the other ranks serve");
        return ZX_E_ARGUMENT;
    }
    /* the program, or QUIT when rank 0 could not load one */
    msg *m = inbox_wait(d);
    while (m && m->tag != TAG_PROGRAM && m->tag != TAG_QUIT) {
        msg_free(m);
        m = inbox_wait(d);
    }
    if (!m) {
        zx_vm_set_error(vm, "zexus-jit: --dist: rank %d: %s", d->rank, d->fatal);
        return ZX_E_IO;
    }
    if (m->tag == TAG_QUIT) {
        msg_free(m);
        zx_dist_end(vm);
        return ZX_OK;
    }
    wire_reader r = { m->data, m->data + m->len, false };
    uint64_t hash = wire_get_u64(&r);
    char *build = get_str(&r), *name = get_str(&r);
    uint32_t argc = wire_get_u32(&r);
    char **argv = calloc((size_t)argc + 1, sizeof *argv);
    for (uint32_t i = 0; argv && i < argc && !r.bad; i++) argv[i] = get_str(&r);
    uint64_t len = wire_get_u64(&r);
    char mine[256], why[600] = "";
    build_id_text(mine, sizeof mine);
    if (r.bad || !build || !name || !argv || (uint64_t)(r.end - r.p) != len) {
        snprintf(why, sizeof why, "a malformed program message");
    } else if (strcmp(build, mine) != 0) {
        snprintf(why, sizeof why, "its zexus-jit build differs (rank 0: %s, rank %d: %s)", build, d->rank, mine);
    } else if (program_hash(r.p, (size_t)len, build) != hash) {
        snprintf(why, sizeof why, "the program's bytes arrived damaged (hash mismatch)");
    }
    zx_program *p = NULL;
    zx_status st = ZX_OK;
    if (!why[0]) {
        zx_vm_set_args(vm, (int)argc, (const char *const *)argv);
        st = zx_vm_load_bytecode_named(vm, name, r.p, (size_t)len, &p);
        if (st != ZX_OK) snprintf(why, sizeof why, "cannot load the program: %s", zx_vm_last_error(vm));
    }
    for (uint32_t i = 0; argv && i < argc; i++) free(argv[i]);
    free(argv);
    free(build);
    free(name);
    msg_free(m);
    if (!why[0] && !wire_codes_init(&d->codes, p)) snprintf(why, sizeof why, "out of memory");
    zx_run *run = NULL;
    if (!why[0]) {
        run = calloc(1, sizeof *run);
        if (!run || zx_run_init(run, p) != ZX_OK) {
            free(run);
            run = NULL;
            snprintf(why, sizeof why, "out of memory");
        }
    }
    hello(d, !why[0], zx_vm_worker_count(vm), why);
    if (why[0]) {
        /* rank 0 ends the job; wait for its QUIT */
        msg *q;
        while ((q = inbox_wait(d)) && q->tag != TAG_QUIT) msg_free(q);
        msg_free(q);
        zx_dist_end(vm);
        return ZX_OK;
    }
    zx_task root;
    zx_task_init(&root, run, NULL);
    zx_frame *f = zx_frame_push(&root, p->main, NULL, NULL, 0, NULL);
    serve_ctx sc = { d, run, f, ZX_OK };
    st = f ? zx_run_with_stack(run, serve_job, &sc) : ZX_E_MEMORY;
    if (f) zx_frame_pop(&root, f);
    zx_task_fini(&root);
    zx_run_fini(run);
    free(run);
    if (st != ZX_OK) zx_vm_set_error(vm, "zexus-jit: --dist: rank %d: %s", d->rank, d->fatal[0] ? d->fatal : "failed");
    zx_dist_end(vm);
    return st;
}
