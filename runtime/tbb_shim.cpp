// tbb_shim.cpp — oneTBB behind the C API of tbb_shim.h: the only C++ file and the only user of oneTBB.
#include "tbb_shim.h"

#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/partitioner.h>
#include <oneapi/tbb/task_arena.h>
#include <oneapi/tbb/task_group.h>
#include <oneapi/tbb/task_scheduler_observer.h>

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <exception>
#include <memory>
#include <mutex>
#include <new>
#include <numeric>
#include <set>
#include <thread>
#include <unordered_set>
#include <vector>

// C code hands us `atomic_int *`; we read it as std::atomic<int>.
static_assert(sizeof(std::atomic<int>) == sizeof(int) && alignof(std::atomic<int>) == alignof(int),
              "std::atomic<int> must be layout-compatible with C11 atomic_int");
static_assert(std::atomic<int>::is_always_lock_free, "atomic_int must be lock-free to be shared with C");

// ThreadSanitizer cannot see the synchronisation inside libtbb, which is not instrumented, so
// the shim states the happens-before edges that oneTBB guarantees: spawning a task precedes
// its start, the end of a task precedes the return of the wait for it, creating the observer
// precedes its notifications.  Each edge has its own address, so that tasks which are not
// ordered do not look ordered to TSan (that would hide real races between them).
#if defined(__SANITIZE_THREAD__)
#define ZX_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define ZX_TSAN 1
#endif
#endif
#ifdef ZX_TSAN
extern "C" void __tsan_acquire(void *addr);
extern "C" void __tsan_release(void *addr);
#endif

namespace {

inline void hb_release(const void *addr)
{
#ifdef ZX_TSAN
    __tsan_release(const_cast<void *>(addr));
#else
    (void)addr;
#endif
}

inline void hb_acquire(const void *addr)
{
#ifdef ZX_TSAN
    __tsan_acquire(const_cast<void *>(addr));
#else
    (void)addr;
#endif
}

// The start and end edges of one parallel call (see hb_release).
struct hb_edges {
    char start = 0, end = 0;
};

// ---- the process-wide thread cap (documented in tbb_shim.h) ----------------------------

// oneTBB obeys the smallest live max_allowed_parallelism, and defaults to the core count.
// We hold at most one global_control, at the largest worker count of any live executor,
// and only while that count exceeds what oneTBB allowed before we raised it: executors no
// wider than the machine leave oneTBB's global state untouched.
struct thread_cap {
    std::mutex mu;
    std::multiset<int> counts;                 // worker count of every live executor
    std::unique_ptr<tbb::global_control> ctl;  // held only while raised
    size_t held = 0;                           // the value of ctl
    size_t baseline = 0;                       // oneTBB's limit without ours
};

thread_cap &the_thread_cap()
{
    static thread_cap cap;  // the one mutable process-wide object of the library
    return cap;
}

// Called with cap.mu held.
void cap_update(thread_cap &cap)
{
    size_t top = cap.counts.empty() ? 0 : (size_t)*cap.counts.rbegin();
    if (!cap.ctl)
        cap.baseline = tbb::global_control::active_value(tbb::global_control::max_allowed_parallelism);
    if (top > cap.baseline) {
        if (cap.held != top) {
            // The new control goes in before the old one leaves, so the limit never drops to
            // the default in between.
            auto ctl = std::make_unique<tbb::global_control>(tbb::global_control::max_allowed_parallelism, top);
            cap.ctl = std::move(ctl);
            cap.held = top;
        }
    } else {
        cap.ctl.reset();
        cap.held = 0;
    }
}

void cap_acquire(int workers)
{
    thread_cap &cap = the_thread_cap();
    std::lock_guard<std::mutex> lock(cap.mu);
    auto it = cap.counts.insert(workers);
    try {
        cap_update(cap);
    } catch (...) {
        cap.counts.erase(it);
        throw;
    }
}

void cap_release(int workers)
{
    thread_cap &cap = the_thread_cap();
    std::lock_guard<std::mutex> lock(cap.mu);
    auto it = cap.counts.find(workers);
    if (it != cap.counts.end())
        cap.counts.erase(it);
    cap_update(cap);
}

// ---- executor pieces --------------------------------------------------------------------

// Busy time is a callback's own work.  While a callback is inside a nested call of the shim
// its thread either waits for the nested tasks or runs them (and any others) meanwhile; those
// tasks are timed on their own, so the nested call's whole duration is left out of the
// callback's.  Per thread: where the innermost running callback collects that time.
thread_local uint64_t *tl_nested_ns = nullptr;

uint64_t elapsed_ns(std::chrono::steady_clock::time_point t0)
{
    auto dt = std::chrono::steady_clock::now() - t0;
    return (uint64_t)std::chrono::duration_cast<std::chrono::nanoseconds>(dt).count();
}

// Held for the duration of a public call: inside a callback, charges the call to it.
class nested_call {
public:
    nested_call() : outer_(tl_nested_ns)
    {
        if (outer_)
            t0_ = std::chrono::steady_clock::now();
    }
    ~nested_call()
    {
        if (outer_)
            *outer_ += elapsed_ns(t0_);
    }
    nested_call(const nested_call &) = delete;
    nested_call &operator=(const nested_call &) = delete;

private:
    uint64_t *outer_;
    std::chrono::steady_clock::time_point t0_{};
};

// Per-slot counters, a cache line each: every slot is written by the thread in it.
struct alignas(64) slot_counters {
    std::atomic<uint64_t> tasks{0};
    std::atomic<uint64_t> busy_ns{0};
    std::atomic<uintptr_t> last_thread{0};  // the thread last seen in this slot
};

class pin_observer final : public tbb::task_scheduler_observer {
public:
    pin_observer(tbb::task_arena &arena, const tbbshim_config &cfg)
        : tbb::task_scheduler_observer(arena), entry_(cfg.on_entry), exit_(cfg.on_exit), ctx_(cfg.observer_ctx)
    {
    }
    void on_scheduler_entry(bool) override
    {
        hb_acquire(this);
        if (entry_)
            entry_(ctx_, tbb::this_task_arena::current_thread_index());
        hb_release(this);
    }
    void on_scheduler_exit(bool) override
    {
        hb_acquire(this);
        if (exit_)
            exit_(ctx_, tbb::this_task_arena::current_thread_index());
        hb_release(this);
    }

private:
    void (*entry_)(void *, int);
    void (*exit_)(void *, int);
    void *ctx_;
};

uint64_t splitmix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

constexpr int STOP_FAILED = 1;
constexpr int STOP_CANCELLED = 2;

tbbshim_status stop_status(int stop)
{
    if (stop & STOP_FAILED)
        return TBBSHIM_FAILED;
    if (stop & STOP_CANCELLED)
        return TBBSHIM_CANCELLED;
    return TBBSHIM_OK;
}

}  // namespace

struct tbbshim_executor {
    int workers = 0;
    uint64_t seed = 0;
    std::atomic<uint64_t> rng{0};
    bool capped = false;
    std::unique_ptr<tbb::global_control> stack_ctl;
    tbb::task_scheduler_handle handle;
    tbb::task_arena arena;
    std::unique_ptr<pin_observer> observer;
    std::unique_ptr<slot_counters[]> slots;  // workers + 1
    std::mutex threads_mu;                   // taken only when a slot sees a new thread
    std::unordered_set<uintptr_t> threads;
    std::mutex err_mu;
    char last_error[256] = "";

    ~tbbshim_executor() { shutdown(); }

    // Run f in the arena, isolated: while this call waits for its work, the thread takes only
    // tasks of this call (its own pieces, one level deeper), never a task of an enclosing or
    // unrelated call.  So the C stack a waiting thread can pile up is bounded by the depth of
    // the work itself, which is what sizes every thread's stack for the Zexus depth limit
    // (src/exec/frame.h, ZX_STACK_PER_DEPTH): without it a worker waiting deep in a recursion
    // could run an outer piece, whose own recursion then starts near the stack's end.
    template <class F>
    void execute_isolated(F &&f)
    {
        arena.execute([&] { tbb::this_task_arena::isolate(f); });
    }

    // Tear down in the reverse order of tbbshim_create; never throws.
    void shutdown() noexcept
    {
        try {
            if (observer) {
                observer->observe(false);  // waits for notifications in progress
                hb_acquire(observer.get());
            }
            observer.reset();
            if (arena.is_active())
                arena.terminate();
            stack_ctl.reset();
            if (capped)
                cap_release(workers);
            capped = false;
            // Joins the worker threads when no other handle (executor) is alive; otherwise it
            // only drops our reference and the pool sleeps until the last one goes.
            if (handle)
                (void)tbb::finalize(handle, std::nothrow);
        } catch (...) {
        }
    }

    uint64_t random()
    {
        return splitmix64(rng.fetch_add(0x9e3779b97f4a7c15ULL, std::memory_order_relaxed));
    }

    // In random mode, give other threads a chance to overtake before a task starts.
    void jitter()
    {
        if (!seed)
            return;
        for (uint64_t k = random() % 8; k > 0; k--)
            std::this_thread::yield();
    }

    template <class T> void shuffle(T *v, size_t n)
    {
        for (size_t i = n; i > 1; i--)
            std::swap(v[i - 1], v[random() % i]);
    }

    int slot() const
    {
        int s = tbb::this_task_arena::current_thread_index();
        return s >= 0 && s < workers ? s : workers;
    }

    // Run one task's callback, counting it against the slot of the running thread: its
    // duration less the nested calls it made (see tl_nested_ns).
    template <class F> int timed(F &&f)
    {
        int s = slot();
        slot_counters &c = slots[s];
        uintptr_t me = (uintptr_t)pthread_self();
        if (c.last_thread.load(std::memory_order_relaxed) != me) {
            std::lock_guard<std::mutex> lock(threads_mu);
            threads.insert(me);
            c.last_thread.store(me, std::memory_order_relaxed);
        }
        uint64_t nested = 0;
        struct scope {
            uint64_t *saved;
            ~scope() { tl_nested_ns = saved; }
        } restore{tl_nested_ns};
        tl_nested_ns = &nested;
        auto t0 = std::chrono::steady_clock::now();
        int rc = f(s);
        uint64_t dt = elapsed_ns(t0);
        c.tasks.fetch_add(1, std::memory_order_relaxed);
        c.busy_ns.fetch_add(dt > nested ? dt - nested : 0, std::memory_order_relaxed);
        return rc;
    }

    // A fixed buffer, so that reporting out-of-memory cannot run out of memory.
    tbbshim_status error(const char *where, const char *what) noexcept
    {
        std::lock_guard<std::mutex> lock(err_mu);
        std::snprintf(last_error, sizeof last_error, "%s: %s", where, what);
        return TBBSHIM_ERROR;
    }
};

namespace {

// Turn whatever escaped oneTBB or our own code into an error on ex: nothing crosses into C.
template <class F> tbbshim_status guarded(tbbshim_executor *ex, const char *where, F &&f) noexcept
{
    try {
        return f();
    } catch (const std::bad_alloc &) {
        return ex->error(where, "out of memory");
    } catch (const std::exception &e) {
        return ex->error(where, e.what());
    } catch (...) {
        return ex->error(where, "unknown C++ exception");
    }
}

bool cancelled(const tbbshim_atomic_int *cancel)
{
    return cancel && cancel->load(std::memory_order_relaxed) != 0;
}

// ---- DAG --------------------------------------------------------------------------------

struct dag_run {
    tbbshim_executor *ex;
    const uint32_t *offs;
    const uint32_t *succs;
    std::unique_ptr<std::atomic<uint32_t>[]> pending;  // predecessors not yet finished
    int (*run_node)(void *, uint32_t);
    void *ctx;
    const tbbshim_atomic_int *cancel;
    std::atomic<int> stop{0};
    std::atomic<uint32_t> started{0};
    tbb::task_group tg;
    hb_edges hb;  // `end` only: a node's start edge is its pending counter

    bool stopping()
    {
        if (cancelled(cancel))
            stop.fetch_or(STOP_CANCELLED, std::memory_order_relaxed);
        return stop.load(std::memory_order_relaxed) != 0;
    }

    // The start edge is acquired through the address the task carries, before the task
    // reads anything the spawner wrote.
    void spawn(uint32_t node)
    {
        const void *edge = &pending[node];
        hb_release(edge);
        tg.run([this, node, edge] {
            hb_acquire(edge);
            execute(node);
        });
    }

    void spawn_all(uint32_t *ready, size_t n)
    {
        ex->shuffle(ready, n);
        for (size_t i = 0; i < n; i++)
            spawn(ready[i]);
    }

    // Run `node`, then release its successors.  In the ordinary mode the first successor
    // that becomes ready runs next on this thread (no spawn for a chain); the others are
    // spawned for idle threads to steal.
    void execute(uint32_t node)
    {
        const uint32_t none = UINT32_MAX;
        struct end_edge {
            const void *addr;
            ~end_edge() { hb_release(addr); }
        } end{&hb.end};
        std::vector<uint32_t> ready;
        while (node != none) {
            if (stopping())
                return;
            ex->jitter();
            started.fetch_add(1, std::memory_order_relaxed);
            if (ex->timed([&](int) { return run_node(ctx, node); }) != 0) {
                stop.fetch_or(STOP_FAILED, std::memory_order_relaxed);
                return;
            }
            uint32_t next = none;
            for (uint32_t e = offs[node]; e < offs[node + 1]; e++) {
                uint32_t s = succs[e];
                // acq_rel: the last predecessor to finish sees every other predecessor's effects.
                if (pending[s].fetch_sub(1, std::memory_order_acq_rel) != 1)
                    continue;
                if (ex->seed)
                    ready.push_back(s);
                else if (next == none)
                    next = s;
                else
                    spawn(s);
            }
            if (!ready.empty()) {
                spawn_all(ready.data(), ready.size());
                ready.clear();
            }
            node = next;
        }
    }
};

}  // namespace

// ---- C API ------------------------------------------------------------------------------

extern "C" {

tbbshim_status tbbshim_create(const tbbshim_config *cfg, tbbshim_executor **out, char *err, size_t err_size)
{
    const char *msg = nullptr;
    char what[256];
    if (!cfg || !out || cfg->workers < 1) {
        msg = "tbbshim_create: bad argument (workers must be at least 1)";
    } else {
        try {
            std::unique_ptr<tbbshim_executor> ex(new tbbshim_executor);
            ex->workers = cfg->workers;
            ex->seed = cfg->seed;
            ex->rng.store(cfg->seed, std::memory_order_relaxed);
            ex->slots.reset(new slot_counters[(size_t)cfg->workers + 1]);
            cap_acquire(cfg->workers);
            ex->capped = true;
            ex->stack_ctl = std::make_unique<tbb::global_control>(
                tbb::global_control::thread_stack_size, cfg->stack_size ? cfg->stack_size : TBBSHIM_DEFAULT_STACK);
            // A handle lets the last executor join oneTBB's threads (see shutdown).
            ex->handle = tbb::task_scheduler_handle(tbb::attach{});
            // One slot reserved for the calling thread: slot 0 is always the embedder's side.
            ex->arena.initialize(cfg->workers, 1);
            if (cfg->on_entry || cfg->on_exit) {
                ex->observer = std::make_unique<pin_observer>(ex->arena, *cfg);
                hb_release(ex->observer.get());
                ex->observer->observe(true);
            }
            *out = ex.release();
            return TBBSHIM_OK;
        } catch (const std::bad_alloc &) {
            msg = "tbbshim_create: out of memory";
        } catch (const std::exception &e) {
            std::snprintf(what, sizeof what, "tbbshim_create: %s", e.what());
            msg = what;
        } catch (...) {
            msg = "tbbshim_create: unknown C++ exception";
        }
    }
    if (err && err_size) {
        std::strncpy(err, msg, err_size - 1);
        err[err_size - 1] = '\0';
    }
    return TBBSHIM_ERROR;
}

void tbbshim_destroy(tbbshim_executor *ex)
{
    delete ex;  // the destructor shuts down and never throws
}

int tbbshim_workers(const tbbshim_executor *ex)
{
    return ex->workers;
}

int tbbshim_current_slot(const tbbshim_executor *ex)
{
    return ex->slot();
}

tbbshim_status tbbshim_run_dag(tbbshim_executor *ex, uint32_t n_nodes, const uint32_t *succ_offsets,
                               const uint32_t *succs, const uint32_t *npreds,
                               int (*run_node)(void *ctx, uint32_t node), void *ctx,
                               const tbbshim_atomic_int *cancel)
{
    if (n_nodes == 0)
        return TBBSHIM_OK;
    if (!succ_offsets || !npreds || !run_node || (succ_offsets[n_nodes] > 0 && !succs))
        return ex->error("tbbshim_run_dag", "bad argument");
    nested_call nested;
    return guarded(ex, "tbbshim_run_dag", [&]() -> tbbshim_status {
        dag_run run;
        run.ex = ex;
        run.offs = succ_offsets;
        run.succs = succs;
        run.run_node = run_node;
        run.ctx = ctx;
        run.cancel = cancel;
        run.pending.reset(new std::atomic<uint32_t>[n_nodes]);
        // Check the graph before anything runs: a wrong count would hang or run a node early.
        for (uint32_t i = 0; i < n_nodes; i++)
            run.pending[i].store(0, std::memory_order_relaxed);
        for (uint32_t i = 0; i < n_nodes; i++) {
            if (succ_offsets[i] > succ_offsets[i + 1])
                return ex->error("tbbshim_run_dag", "successor offsets decrease");
            for (uint32_t e = succ_offsets[i]; e < succ_offsets[i + 1]; e++) {
                if (succs[e] >= n_nodes)
                    return ex->error("tbbshim_run_dag", "successor index out of range");
                run.pending[succs[e]].fetch_add(1, std::memory_order_relaxed);
            }
        }
        std::vector<uint32_t> roots;
        for (uint32_t i = 0; i < n_nodes; i++) {
            if (run.pending[i].load(std::memory_order_relaxed) != npreds[i])
                return ex->error("tbbshim_run_dag", "predecessor counts do not match the successor lists");
            if (npreds[i] == 0)
                roots.push_back(i);
        }
        if (roots.empty())
            return ex->error("tbbshim_run_dag", "the graph has a cycle");
        ex->execute_isolated([&] {
            try {
                if (ex->seed) {
                    run.spawn_all(roots.data(), roots.size());
                } else {
                    // Roots in reverse, so that the LIFO local deque starts with node order.
                    for (size_t i = roots.size(); i-- > 0;)
                        run.spawn(roots[i]);
                }
            } catch (...) {
                // A task group must be waited for before it goes, even when spawning failed.
                run.tg.cancel();
                run.tg.wait();
                throw;
            }
            run.tg.wait();
        });
        hb_acquire(&run.hb.end);
        int stop = run.stop.load(std::memory_order_relaxed);
        if (!stop && run.started.load(std::memory_order_relaxed) != n_nodes)
            return ex->error("tbbshim_run_dag", "the graph has a cycle");
        return stop_status(stop);
    });
}

tbbshim_status tbbshim_parallel_for(tbbshim_executor *ex, size_t n, size_t grain,
                                    void (*body)(void *ctx, size_t begin, size_t end, int slot), void *ctx,
                                    const tbbshim_atomic_int *cancel)
{
    if (!body)
        return ex->error("tbbshim_parallel_for", "bad argument");
    if (n == 0)
        return TBBSHIM_OK;
    nested_call nested;
    return guarded(ex, "tbbshim_parallel_for", [&]() -> tbbshim_status {
        size_t g = std::min(n, grain ? grain : std::max<size_t>(1, n / (8 * (size_t)ex->workers)));
        std::atomic<bool> skipped{false};
        hb_edges hb;
        auto one = [&](size_t b, size_t e) {
            if (cancelled(cancel)) {
                skipped.store(true, std::memory_order_relaxed);
            } else {
                ex->jitter();
                ex->timed([&](int slot) {
                    body(ctx, b, e, slot);
                    return 0;
                });
            }
            hb_release(&hb.end);
        };
        if (!ex->seed) {
            // simple_partitioner: ranges are exactly as fine as the caller asked, no coarser.
            hb_release(&hb.start);
            ex->execute_isolated([&] {
                tbb::parallel_for(
                    tbb::blocked_range<size_t>(0, n, g),
                    [&one, &hb](const tbb::blocked_range<size_t> &r) {
                        hb_acquire(&hb.start);
                        one(r.begin(), r.end());
                    },
                    tbb::simple_partitioner());
            });
        } else {
            // Random mode: cut [0, n) into chunks of `g` and hand them out in a shuffled order:
            // chunk k of the loop is chunk (a*k + c) mod nchunks, a bijection when a is
            // coprime with nchunks.  No permutation array, so any n works (beyond 2^32 chunks,
            // where a*k could overflow, a rotation only).
            size_t nchunks = (n + g - 1) / g;
            size_t a = 1, c = (size_t)(ex->random() % nchunks);
            if (nchunks > 2 && nchunks <= UINT32_MAX) {
                do
                    a = 1 + (size_t)(ex->random() % (nchunks - 1));
                while (std::gcd(a, nchunks) != 1);
            }
            hb_release(&hb.start);
            ex->execute_isolated([&] {
                tbb::parallel_for(
                    tbb::blocked_range<size_t>(0, nchunks, 1),
                    [&](const tbb::blocked_range<size_t> &r) {
                        hb_acquire(&hb.start);
                        for (size_t k = r.begin(); k < r.end(); k++) {
                            size_t chunk = (a * k + c) % nchunks;
                            one(chunk * g, std::min(n, (chunk + 1) * g));
                        }
                    },
                    tbb::simple_partitioner());
            });
        }
        hb_acquire(&hb.end);
        return skipped.load(std::memory_order_relaxed) ? TBBSHIM_CANCELLED : TBBSHIM_OK;
    });
}

tbbshim_status tbbshim_fork(tbbshim_executor *ex, uint32_t n, int (*run)(void *ctx, uint32_t i), void *ctx,
                            const tbbshim_atomic_int *cancel)
{
    if (!run)
        return ex->error("tbbshim_fork", "bad argument");
    if (n == 0)
        return TBBSHIM_OK;
    nested_call nested;
    return guarded(ex, "tbbshim_fork", [&]() -> tbbshim_status {
        std::atomic<int> stop{0};
        std::vector<uint32_t> order(n);
        for (uint32_t i = 0; i < n; i++)
            order[i] = i;
        ex->shuffle(order.data(), ex->seed ? n : 0);
        hb_edges hb;
        auto task = [&](uint32_t i) {
            if (cancelled(cancel))
                stop.fetch_or(STOP_CANCELLED, std::memory_order_relaxed);
            if (!stop.load(std::memory_order_relaxed)) {
                ex->jitter();
                if (ex->timed([&](int) { return run(ctx, i); }) != 0)
                    stop.fetch_or(STOP_FAILED, std::memory_order_relaxed);
            }
            hb_release(&hb.end);
        };
        hb_release(&hb.start);
        ex->execute_isolated([&] {
            tbb::task_group tg;
            uint32_t first = order[0];
            try {
                // Spawned in reverse so that the calling thread, popping its own deque LIFO,
                // takes them in order; the first one it runs itself.
                for (uint32_t k = n - 1; k > 0; k--) {
                    uint32_t i = order[k];
                    tg.run([&task, &hb, i] {
                        hb_acquire(&hb.start);
                        task(i);
                    });
                }
            } catch (...) {
                tg.cancel();
                tg.wait();
                throw;
            }
            tg.run_and_wait([&task, first] { task(first); });
        });
        hb_acquire(&hb.end);
        return stop_status(stop.load(std::memory_order_relaxed));
    });
}

int tbbshim_stats(tbbshim_executor *ex, tbbshim_slot_stats *out, int n_out, int *threads)
{
    int n = ex->workers + 1;
    for (int i = 0; i < n && i < n_out; i++) {
        out[i].tasks = ex->slots[i].tasks.load(std::memory_order_relaxed);
        out[i].busy_ns = ex->slots[i].busy_ns.load(std::memory_order_relaxed);
    }
    if (threads) {
        std::lock_guard<std::mutex> lock(ex->threads_mu);
        *threads = (int)ex->threads.size();
    }
    return n;
}

void tbbshim_stats_reset(tbbshim_executor *ex)
{
    std::lock_guard<std::mutex> lock(ex->threads_mu);
    for (int i = 0; i <= ex->workers; i++) {
        ex->slots[i].tasks.store(0, std::memory_order_relaxed);
        ex->slots[i].busy_ns.store(0, std::memory_order_relaxed);
        ex->slots[i].last_thread.store(0, std::memory_order_relaxed);
    }
    ex->threads.clear();
}

void tbbshim_last_error(tbbshim_executor *ex, char *buf, size_t size)
{
    if (!buf || size == 0)
        return;
    std::lock_guard<std::mutex> lock(ex->err_mu);
    std::strncpy(buf, ex->last_error, size - 1);
    buf[size - 1] = '\0';
}

}  // extern "C"
