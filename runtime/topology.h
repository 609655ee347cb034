/* topology.h — the machine as the scheduler sees it: cores, NUMA nodes, worker placement, pinning. */
#ifndef ZX_TOPOLOGY_H
#define ZX_TOPOLOGY_H

#include <stdbool.h>
#include <stddef.h>

/*
 * The topology module is the only place that knows hwloc.  Everything hangs off a `topo`
 * handle; there is no process-wide state.  After topo_create returns, a handle is read-only:
 * every function below that takes a `const topo *`, and topo_pin_worker, topo_binding_*,
 * topo_alloc_on_node, topo_alloc_interleaved and topo_free, may be called from any number of
 * threads at once (hwloc allows concurrent queries and binding calls on a loaded topology).
 *
 * Errors: fallible functions return 0 on success and -1 on failure, and then write a
 * NUL-terminated message to `err` (which may be NULL; err_size counts the terminator).
 * Nothing in this module exits or aborts.
 *
 * Indices: "core" and "node" are hwloc logical indices (0..topo_cores-1, 0..topo_numa_nodes-1),
 * stable for a given topology, not the operating system's CPU numbers.
 *
 * Placement rule (topo_worker_core): the allowed cores (those with a PU in the calling
 * thread's sched_getaffinity mask at creation; every core on a synthetic or XML topology) are
 * grouped by NUMA node, each group in logical order.  The ring takes the first core of every
 * node, then the second core of every node, and so on (a node that runs out is skipped).
 * Worker i runs on ring[i % ring size].  So consecutive workers land on different NUMA nodes
 * first, spreading memory bandwidth, and a node gets a second worker only when every node
 * has one.  E.g. "package:2 numa:2 core:4 pu:2" with 8 workers: cores 0,4,8,12,1,5,9,13 on
 * nodes 0,1,2,3,0,1,2,3.
 */

typedef struct topo topo;
/* A saved CPU binding of one thread (see topo_binding_save). */
typedef struct topo_binding topo_binding;

/* Load a topology.  spec NULL or "": this machine, as hwloc discovers it (hwloc honours
 * HWLOC_SYNTHETIC, HWLOC_XMLFILE, HWLOC_THISSYSTEM and HWLOC_FSROOT as usual); "xml:PATH": an
 * hwloc XML export; anything else: an hwloc synthetic description such as
 * "package:2 numa:2 core:4 pu:2".  On success *out owns the topology (topo_destroy). */
int topo_create(const char *spec, topo **out, char *err, size_t err_size);
/* NULL is allowed. */
void topo_destroy(topo *t);

int topo_packages(const topo *t);
int topo_numa_nodes(const topo *t);
int topo_cores(const topo *t);
int topo_pus(const topo *t);
/* True when the topology is this machine (binding and NUMA allocation act on it); false for
 * a synthetic or XML topology unless HWLOC_THISSYSTEM=1, where binding succeeds and does
 * nothing. */
bool topo_is_machine(const topo *t);

/* The default worker count.  On this machine: the CPUs in the calling thread's
 * sched_getaffinity mask (at creation), capped by the cgroup CPU quota (see
 * topo_cgroup_cpu_limit); on a synthetic or XML topology: its number of cores.  At least 1. */
int topo_default_workers(const topo *t);
/* How many cores the placement ring holds (allowed cores, see the rule above). */
int topo_ring_size(const topo *t);

/* Placement of worker `worker` (>= 0, any value: the ring wraps): its core and that core's
 * NUMA node (logical indices).  -1 for a negative worker. */
int topo_worker_core(const topo *t, int worker);
int topo_worker_node(const topo *t, int worker);

/* Bind the calling thread to the PUs of worker `worker`'s core (hwloc_set_cpubind with
 * HWLOC_CPUBIND_THREAD).  A no-op that succeeds on a topology that is not this machine.
 * Callers that pin a thread they do not own (the embedder's) save its binding first. */
int topo_pin_worker(const topo *t, int worker, char *err, size_t err_size);

/* A binding record; topo_binding_new allocates it (NULL when out of memory) so that saving
 * and restoring inside a scheduler callback never allocates. */
topo_binding *topo_binding_new(const topo *t);
void topo_binding_free(topo_binding *b);
/* Save the calling thread's current CPU binding into b.  On a topology that is not this
 * machine nothing is recorded and restoring is a no-op (pinning was one too). */
int topo_binding_save(const topo *t, topo_binding *b, char *err, size_t err_size);
/* Give the calling thread back the binding recorded in b. */
int topo_binding_restore(const topo *t, const topo_binding *b, char *err, size_t err_size);

/* Allocate `size` bytes (64-byte aligned) whose pages are bound to NUMA node `node`
 * (hwloc_alloc_membind, strict).  When binding is impossible — a node index out of range, a
 * node the machine lacks (EINVAL on a synthetic topology with HWLOC_THISSYSTEM=1), a
 * topology that is not this machine, no NUMA support — falls back to ordinary memory.
 * *bound (may be NULL) says which happened.  NULL only when out of memory.  Free with
 * topo_free on the same topology. */
void *topo_alloc_on_node(const topo *t, int node, size_t size, bool *bound);
/* The same with the pages interleaved over every NUMA node of the topology
 * (HWLOC_MEMBIND_INTERLEAVE, strict), for memory that every node uses alike.  Ordinary memory
 * on one node, on a topology that is not this machine, or when binding fails; *bound says
 * which happened. */
void *topo_alloc_interleaved(const topo *t, size_t size, bool *bound);
/* NULL is allowed. */
void topo_free(const topo *t, void *p);

/* A human-readable description for `zexus-jit info`: source, counts, default workers and
 * the placement of `workers` workers.  malloc'ed, owned by the caller (free()); NULL when
 * out of memory. */
char *topo_describe(const topo *t, int workers);
/* The same as one JSON object for `--stats=json`:
 * {"source":"machine","packages":P,"numa_nodes":N,"cores":C,"pus":U,"default_workers":W,
 *  "placement":[{"worker":0,"core":0,"node":0,"cpus":"0-1"},...]}
 * malloc'ed, owned by the caller (free()); NULL when out of memory. */
char *topo_json(const topo *t, int workers);

/* The CPU limit that the cgroup quota of the calling process imposes: ceil(quota / period)
 * from cgroup v2 cpu.max ("quota period", "max" = none) and cgroup v1 cpu.cfs_quota_us /
 * cpu.cfs_period_us (-1 = none), the smallest over the process's cgroup and its ancestors up
 * to the mount point, for every hierarchy mounted.  0 when there is no limit.  `fs_root` is
 * prefixed to /proc/self/cgroup, /proc/self/mountinfo and the mount points found there:
 * NULL or "" for the real system, a directory holding a fake tree for tests. */
int topo_cgroup_cpu_limit(const char *fs_root);
/* CPUs granted by a quota: ceil(quota / period), at least 1; 0 for no limit (quota <= 0 or
 * period <= 0). */
int topo_quota_cpus(long long quota, long long period);

#endif
