/* topology.c — hwloc behind the topo_ API: discovery, usable-core count, placement, pinning, NUMA memory. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* sched_getaffinity, CPU_ALLOC; CMake defines it for the whole tree */
#endif

#include "topology.h"

#include <errno.h>
#include <hwloc.h>
#include <limits.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* One entry of the placement ring: a core and the PUs of it that the process may use. */
typedef struct topo_slot {
    int core;               /* logical index of the core (of the PU where a topology has no cores) */
    int node;               /* logical index of its NUMA node */
    hwloc_bitmap_t cpuset;  /* what a worker on this core is bound to */
} topo_slot;

struct topo {
    hwloc_topology_t hw;
    bool machine;
    char source[256];
    int packages, nodes, cores, pus;
    int affinity_cpus;      /* sched_getaffinity count at creation (machine only) */
    int cgroup_cpus;        /* cgroup quota limit, 0 = none (machine only) */
    int default_workers;
    int nring;
    topo_slot *ring;
};

struct topo_binding {
    hwloc_bitmap_t set;
    bool saved;
};

/* Memory from topo_alloc_on_node starts with this header, padded to a cache line, so that
 * topo_free knows how the block was obtained without the caller keeping the size. */
typedef struct topo_mem_header {
    size_t total;           /* bytes obtained, header included */
    int from_hwloc;         /* 1: hwloc_alloc_membind, 0: posix_memalign */
} topo_mem_header;
#define TOPO_MEM_HEADER 64

static void set_err(char *err, size_t err_size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t err_size, const char *fmt, ...)
{
    va_list ap;
    if (!err || err_size == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, err_size, fmt, ap);
    va_end(ap);
}

/* ---------------------------------------------------------------- cgroup CPU quota ---- */

int topo_quota_cpus(long long quota, long long period)
{
    long long n;
    if (quota <= 0 || period <= 0)
        return 0;
    n = quota / period + (quota % period != 0);
    if (n > INT_MAX)
        return INT_MAX;
    return n < 1 ? 1 : (int)n;
}

/* The whole of a small file (a /proc or cgroup file), NUL-terminated; NULL if unreadable. */
static char *read_small_file(const char *path)
{
    FILE *f = fopen(path, "r");
    char *buf = NULL;
    size_t len = 0, cap = 0, n;
    if (!f)
        return NULL;
    for (;;) {
        if (cap - len < 4096) {
            char *nb = realloc(buf, cap + 8192);
            if (!nb)
                goto fail;
            buf = nb;
            cap += 8192;
        }
        n = fread(buf + len, 1, cap - len - 1, f);
        len += n;
        if (n == 0)
            break;
    }
    if (ferror(f))
        goto fail;
    buf[len] = '\0';
    fclose(f);
    return buf;
fail:
    free(buf);
    fclose(f);
    return NULL;
}

/* Whether comma-separated `list` (length len) holds `word`. */
static bool list_has(const char *list, size_t len, const char *word)
{
    size_t wl = strlen(word);
    const char *p = list, *end = list + len;
    while (p < end) {
        const char *c = memchr(p, ',', (size_t)(end - p));
        size_t il = (size_t)((c ? c : end) - p);
        if (il == wl && memcmp(p, word, wl) == 0)
            return true;
        p = c ? c + 1 : end;
    }
    return false;
}

/* The limit one cgroup directory sets: v2 reads cpu.max, v1 the cfs files.  0 = none. */
static int dir_cpu_limit(const char *dir, bool v2)
{
    char path[PATH_MAX + 32];
    char *text = NULL, *text2 = NULL;
    long long quota = 0, period = 0;
    int limit = 0;
    if (v2) {
        char q[32];
        snprintf(path, sizeof path, "%s/cpu.max", dir);
        text = read_small_file(path);
        if (text && sscanf(text, "%31s %lld", q, &period) == 2 && strcmp(q, "max") != 0)
            limit = topo_quota_cpus(strtoll(q, NULL, 10), period);
    } else {
        snprintf(path, sizeof path, "%s/cpu.cfs_quota_us", dir);
        text = read_small_file(path);
        snprintf(path, sizeof path, "%s/cpu.cfs_period_us", dir);
        text2 = read_small_file(path);
        if (text && text2 && sscanf(text, "%lld", &quota) == 1 && sscanf(text2, "%lld", &period) == 1)
            limit = topo_quota_cpus(quota, period);
    }
    free(text);
    free(text2);
    return limit;
}

static int min_limit(int a, int b)
{
    if (a == 0)
        return b;
    if (b == 0)
        return a;
    return a < b ? a : b;
}

/* The smallest limit from the process's cgroup directory up to the hierarchy's mount point:
 * a quota on a parent caps every child, and inside a container the visible tree often starts
 * at the container's own cgroup. */
static int hierarchy_cpu_limit(const char *fs_root, const char *mountpoint, const char *mount_root,
                               const char *cg_path, bool v2)
{
    char base[PATH_MAX], dir[PATH_MAX];
    const char *rel = cg_path;
    size_t rl = strlen(mount_root), blen;
    struct stat st;
    int limit = 0;

    /* The cgroup path is relative to the hierarchy's root; the mount shows mount_root there. */
    if (strcmp(mount_root, "/") != 0 && strncmp(cg_path, mount_root, rl) == 0 &&
        (cg_path[rl] == '/' || cg_path[rl] == '\0'))
        rel = cg_path + rl;
    if (snprintf(base, sizeof base, "%s%s", fs_root, mountpoint) >= (int)sizeof base)
        return 0;
    blen = strlen(base);
    if (snprintf(dir, sizeof dir, "%s%s", base, strcmp(rel, "/") == 0 ? "" : rel) >= (int)sizeof dir)
        return 0;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        snprintf(dir, sizeof dir, "%s", base);  /* a namespaced path we cannot map: the mount's root */
    for (;;) {
        char *slash;
        limit = min_limit(limit, dir_cpu_limit(dir, v2));
        if (strlen(dir) <= blen)
            break;
        slash = strrchr(dir, '/');
        if (!slash || (size_t)(slash - dir) < blen)
            break;
        *slash = '\0';
    }
    return limit;
}

int topo_cgroup_cpu_limit(const char *fs_root)
{
    char path[PATH_MAX];
    char *cgroups = NULL, *mounts = NULL, *line, *save = NULL;
    char *v1_path = NULL, *v2_path = NULL;
    bool seen_v1 = false, seen_v2 = false;
    int limit = 0;

    if (!fs_root)
        fs_root = "";
    snprintf(path, sizeof path, "%s/proc/self/cgroup", fs_root);
    cgroups = read_small_file(path);
    if (!cgroups)
        goto done;
    /* Lines are "hierarchy-id:controllers:path"; v2 is "0::path". */
    for (line = strtok_r(cgroups, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c2)
            continue;
        if (c2 == c1 + 1 && strncmp(line, "0:", 2) == 0)
            v2_path = c2 + 1;
        else if (list_has(c1 + 1, (size_t)(c2 - c1 - 1), "cpu"))
            v1_path = c2 + 1;
    }

    snprintf(path, sizeof path, "%s/proc/self/mountinfo", fs_root);
    mounts = read_small_file(path);
    if (mounts) {
        save = NULL;
        /* "id parent major:minor root mountpoint options [optional...] - fstype source superoptions" */
        for (line = strtok_r(mounts, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
            char root[PATH_MAX], mp[PATH_MAX], fstype[64], super[1024];
            const char *dash = strstr(line, " - ");
            if (!dash || sscanf(line, "%*s %*s %*s %4095s %4095s", root, mp) != 2 ||
                sscanf(dash + 3, "%63s %*s %1023s", fstype, super) != 2)
                continue;
            if (strcmp(fstype, "cgroup2") == 0 && v2_path) {
                seen_v2 = true;
                limit = min_limit(limit, hierarchy_cpu_limit(fs_root, mp, root, v2_path, true));
            } else if (strcmp(fstype, "cgroup") == 0 && v1_path && list_has(super, strlen(super), "cpu")) {
                seen_v1 = true;
                limit = min_limit(limit, hierarchy_cpu_limit(fs_root, mp, root, v1_path, false));
            }
        }
    }
    /* No mountinfo (or it lists none): the conventional mount points. */
    if (v2_path && !seen_v2)
        limit = min_limit(limit, hierarchy_cpu_limit(fs_root, "/sys/fs/cgroup", "/", v2_path, true));
    if (v1_path && !seen_v1)
        limit = min_limit(limit, hierarchy_cpu_limit(fs_root, "/sys/fs/cgroup/cpu", "/", v1_path, false));
done:
    free(cgroups);
    free(mounts);
    return limit;
}

/* ---------------------------------------------------------------- discovery ---- */

/* The calling thread's affinity as an hwloc set of OS CPU numbers, and its size; grows the
 * glibc mask until the kernel accepts it (machines with more than 1024 CPUs). */
static int affinity_set(hwloc_bitmap_t out)
{
    for (int ncpu = 1024; ncpu <= (1 << 20); ncpu *= 2) {
        cpu_set_t *mask = CPU_ALLOC((size_t)ncpu);
        size_t size = CPU_ALLOC_SIZE((size_t)ncpu);
        int count;
        if (!mask)
            return -1;
        CPU_ZERO_S(size, mask);
        if (sched_getaffinity(0, size, mask) != 0) {
            CPU_FREE(mask);
            if (errno == EINVAL)
                continue;
            return -1;
        }
        hwloc_bitmap_zero(out);
        for (int i = 0; i < ncpu; i++)
            if (CPU_ISSET_S((size_t)i, size, mask))
                hwloc_bitmap_set(out, (unsigned)i);
        count = CPU_COUNT_S(size, mask);
        CPU_FREE(mask);
        return count;
    }
    return -1;
}

/* Mark each core with its NUMA node, or -1 when no PU of it is in `allowed` (NULL: all);
 * count the marked cores per node.  Returns how many cores are marked. */
static int mark_cores(const topo *t, hwloc_obj_type_t ctype, int ncore, hwloc_const_bitmap_t allowed,
                      int *node_of, int *per_node)
{
    int marked = 0;
    for (int n = 0; n < (t->nodes > 0 ? t->nodes : 1); n++)
        per_node[n] = 0;
    for (int c = 0; c < ncore; c++) {
        hwloc_obj_t core = hwloc_get_obj_by_type(t->hw, ctype, (unsigned)c);
        node_of[c] = -1;
        if (!core || !core->cpuset || (allowed && !hwloc_bitmap_intersects(core->cpuset, allowed)))
            continue;
        node_of[c] = 0;  /* a core outside every node's cpuset (odd XML) counts as node 0 */
        for (int n = 0; n < t->nodes; n++) {
            hwloc_obj_t node = hwloc_get_obj_by_type(t->hw, HWLOC_OBJ_NUMANODE, (unsigned)n);
            if (node && node->cpuset && hwloc_bitmap_intersects(node->cpuset, core->cpuset)) {
                node_of[c] = n;
                break;
            }
        }
        per_node[node_of[c]]++;
        marked++;
    }
    return marked;
}

/* Build the placement ring (the rule is in topology.h). */
static int build_ring(topo *t, hwloc_const_bitmap_t allowed, char *err, size_t err_size)
{
    hwloc_obj_type_t ctype = t->cores > 0 ? HWLOC_OBJ_CORE : HWLOC_OBJ_PU;
    int ncore = hwloc_get_nbobjs_by_type(t->hw, ctype);
    int nnode = t->nodes > 0 ? t->nodes : 1;
    int *per_node = calloc((size_t)nnode, sizeof *per_node);
    int *node_of = calloc((size_t)(ncore > 0 ? ncore : 1), sizeof *node_of);
    int n_allowed;

    t->ring = calloc((size_t)(ncore > 0 ? ncore : 1), sizeof *t->ring);
    if (!per_node || !node_of || !t->ring) {
        set_err(err, err_size, "topology: out of memory");
        goto fail;
    }
    n_allowed = mark_cores(t, ctype, ncore, allowed, node_of, per_node);
    if (n_allowed == 0 && allowed) {
        /* The affinity mask names no core hwloc knows (it should not happen): use them all. */
        allowed = NULL;
        n_allowed = mark_cores(t, ctype, ncore, NULL, node_of, per_node);
    }
    if (n_allowed == 0) {
        set_err(err, err_size, "topology: no cores found");
        goto fail;
    }
    /* Round r takes the r-th allowed core of every node, in node order. */
    for (int round = 0; t->nring < n_allowed; round++) {
        for (int n = 0; n < nnode; n++) {
            int seen = 0;
            if (per_node[n] <= round)
                continue;
            for (int c = 0; c < ncore; c++) {
                topo_slot *s = &t->ring[t->nring];
                if (node_of[c] != n || seen++ != round)
                    continue;
                s->core = c;
                s->node = n;
                s->cpuset = hwloc_bitmap_dup(hwloc_get_obj_by_type(t->hw, ctype, (unsigned)c)->cpuset);
                if (!s->cpuset) {
                    set_err(err, err_size, "topology: out of memory");
                    goto fail;
                }
                if (allowed)
                    hwloc_bitmap_and(s->cpuset, s->cpuset, allowed);
                t->nring++;
                break;
            }
        }
    }
    free(per_node);
    free(node_of);
    return 0;
fail:
    free(per_node);
    free(node_of);
    return -1;
}

int topo_create(const char *spec, topo **out, char *err, size_t err_size)
{
    topo *t = calloc(1, sizeof *t);
    hwloc_bitmap_t allowed = NULL;
    const char *backend;

    if (!t) {
        set_err(err, err_size, "topology: out of memory");
        return -1;
    }
    /* hwloc loads its plugins (libxml2 XML, OpenCL, OpenGL, PCI) at the first init: 10 ms or
     * more of a short parallel run, for devices that play no part in placement (the built-in
     * XML reader still serves xml: topologies).  A blacklist the user set wins. */
    setenv("HWLOC_PLUGINS_BLACKLIST", "hwloc_xml_libxml,hwloc_opencl,hwloc_gl,hwloc_pci,hwloc_cuda,hwloc_nvml,hwloc_rsmi,hwloc_levelzero", 0);
    if (hwloc_topology_init(&t->hw) != 0) {
        t->hw = NULL;
        set_err(err, err_size, "topology: hwloc_topology_init failed: %s", strerror(errno));
        goto fail;
    }
    /* Instruction caches and I/O devices play no part in placement; skipping them makes
     * discovery cheaper on every start. */
    hwloc_topology_set_icache_types_filter(t->hw, HWLOC_TYPE_FILTER_KEEP_NONE);
    hwloc_topology_set_io_types_filter(t->hw, HWLOC_TYPE_FILTER_KEEP_NONE);
    if (spec && strncmp(spec, "xml:", 4) == 0) {
        if (spec[4] == '\0') {
            set_err(err, err_size, "topology: \"xml:\" needs a file name");
            goto fail;
        }
        if (hwloc_topology_set_xml(t->hw, spec + 4) != 0) {
            set_err(err, err_size, "topology: cannot use XML topology '%s': %s", spec + 4, strerror(errno));
            goto fail;
        }
    } else if (spec && spec[0]) {
        if (hwloc_topology_set_synthetic(t->hw, spec) != 0) {
            set_err(err, err_size, "topology: invalid synthetic topology '%s'", spec);
            goto fail;
        }
    }
    if (hwloc_topology_load(t->hw) != 0) {
        set_err(err, err_size, "topology: hwloc_topology_load failed: %s", strerror(errno));
        goto fail;
    }
    t->machine = hwloc_topology_is_thissystem(t->hw) != 0;
    t->packages = hwloc_get_nbobjs_by_type(t->hw, HWLOC_OBJ_PACKAGE);
    t->nodes = hwloc_get_nbobjs_by_type(t->hw, HWLOC_OBJ_NUMANODE);
    t->cores = hwloc_get_nbobjs_by_type(t->hw, HWLOC_OBJ_CORE);
    t->pus = hwloc_get_nbobjs_by_type(t->hw, HWLOC_OBJ_PU);
    if (t->pus <= 0) {
        set_err(err, err_size, "topology: no processing units found");
        goto fail;
    }

    backend = hwloc_obj_get_info_by_name(hwloc_get_root_obj(t->hw), "Backend");
    if (spec && strncmp(spec, "xml:", 4) == 0)
        snprintf(t->source, sizeof t->source, "xml %s", spec + 4);
    else if (spec && spec[0])
        snprintf(t->source, sizeof t->source, "synthetic %s", spec);
    else if (backend && strcmp(backend, "Synthetic") == 0)
        snprintf(t->source, sizeof t->source, "synthetic (HWLOC_SYNTHETIC)");
    else if (backend && strcmp(backend, "XML") == 0)
        snprintf(t->source, sizeof t->source, "xml (HWLOC_XMLFILE)");
    else
        snprintf(t->source, sizeof t->source, "machine");

    if (t->machine) {
        /* hwloc's allowed set reflects the cgroup cpuset, not the thread's affinity, and its
         * topology is the container's whole host: count what the process may really use. */
        allowed = hwloc_bitmap_alloc();
        if (!allowed) {
            set_err(err, err_size, "topology: out of memory");
            goto fail;
        }
        t->affinity_cpus = affinity_set(allowed);
        if (t->affinity_cpus <= 0) {
            set_err(err, err_size, "topology: sched_getaffinity failed: %s", strerror(errno));
            goto fail;
        }
        hwloc_bitmap_and(allowed, allowed, hwloc_topology_get_allowed_cpuset(t->hw));
        t->cgroup_cpus = topo_cgroup_cpu_limit(NULL);
        t->default_workers = t->affinity_cpus;
        if (t->cgroup_cpus > 0 && t->cgroup_cpus < t->default_workers)
            t->default_workers = t->cgroup_cpus;
    } else {
        t->default_workers = t->cores > 0 ? t->cores : t->pus;
    }
    if (build_ring(t, allowed, err, err_size) != 0)
        goto fail;
    hwloc_bitmap_free(allowed);
    *out = t;
    return 0;
fail:
    hwloc_bitmap_free(allowed);
    topo_destroy(t);
    return -1;
}

void topo_destroy(topo *t)
{
    if (!t)
        return;
    for (int i = 0; i < t->nring; i++)
        hwloc_bitmap_free(t->ring[i].cpuset);
    free(t->ring);
    if (t->hw)
        hwloc_topology_destroy(t->hw);
    free(t);
}

int topo_packages(const topo *t) { return t->packages; }
int topo_numa_nodes(const topo *t) { return t->nodes; }
int topo_cores(const topo *t) { return t->cores; }
int topo_pus(const topo *t) { return t->pus; }
bool topo_is_machine(const topo *t) { return t->machine; }
int topo_default_workers(const topo *t) { return t->default_workers; }
int topo_ring_size(const topo *t) { return t->nring; }

int topo_worker_core(const topo *t, int worker)
{
    return worker < 0 ? -1 : t->ring[worker % t->nring].core;
}

int topo_worker_node(const topo *t, int worker)
{
    return worker < 0 ? -1 : t->ring[worker % t->nring].node;
}

/* ---------------------------------------------------------------- binding ---- */

int topo_pin_worker(const topo *t, int worker, char *err, size_t err_size)
{
    const topo_slot *s;
    if (worker < 0) {
        set_err(err, err_size, "topology: negative worker index %d", worker);
        return -1;
    }
    s = &t->ring[worker % t->nring];
    if (hwloc_set_cpubind(t->hw, s->cpuset, HWLOC_CPUBIND_THREAD) != 0) {
        set_err(err, err_size, "topology: cannot pin worker %d to core %d: %s", worker, s->core,
                strerror(errno));
        return -1;
    }
    return 0;
}

topo_binding *topo_binding_new(const topo *t)
{
    topo_binding *b = calloc(1, sizeof *b);
    (void)t;
    if (!b)
        return NULL;
    b->set = hwloc_bitmap_alloc();
    if (!b->set) {
        free(b);
        return NULL;
    }
    return b;
}

void topo_binding_free(topo_binding *b)
{
    if (!b)
        return;
    hwloc_bitmap_free(b->set);
    free(b);
}

int topo_binding_save(const topo *t, topo_binding *b, char *err, size_t err_size)
{
    b->saved = false;
    if (!t->machine)
        return 0;
    if (hwloc_get_cpubind(t->hw, b->set, HWLOC_CPUBIND_THREAD) != 0) {
        set_err(err, err_size, "topology: cannot read the thread's CPU binding: %s", strerror(errno));
        return -1;
    }
    b->saved = true;
    return 0;
}

int topo_binding_restore(const topo *t, const topo_binding *b, char *err, size_t err_size)
{
    if (!b->saved)
        return 0;
    if (hwloc_set_cpubind(t->hw, b->set, HWLOC_CPUBIND_THREAD) != 0) {
        set_err(err, err_size, "topology: cannot restore the thread's CPU binding: %s", strerror(errno));
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- NUMA memory ---- */

/* Finish a block of `total` bytes: p from hwloc_alloc_membind (bound), or NULL for plain
 * memory instead; the header records which, for topo_free. */
static void *mem_finish(void *p, size_t total, bool *bound)
{
    topo_mem_header *h;
    if (p) {
        h = p;
        h->from_hwloc = 1;
        if (bound)
            *bound = true;
    } else {
        if (posix_memalign(&p, TOPO_MEM_HEADER, total) != 0)
            return NULL;
        h = p;
        h->from_hwloc = 0;
    }
    h->total = total;
    return (char *)p + TOPO_MEM_HEADER;
}

void *topo_alloc_on_node(const topo *t, int node, size_t size, bool *bound)
{
    size_t total;
    void *p = NULL;

    if (bound)
        *bound = false;
    if (size > SIZE_MAX - TOPO_MEM_HEADER)
        return NULL;
    total = size + TOPO_MEM_HEADER;
    if (t->machine && node >= 0 && node < t->nodes) {
        hwloc_obj_t obj = hwloc_get_obj_by_type(t->hw, HWLOC_OBJ_NUMANODE, (unsigned)node);
        /* Strict, so that a binding the system cannot honour fails here instead of silently
         * giving unbound pages; we then fall back knowingly. */
        if (obj && obj->nodeset)
            p = hwloc_alloc_membind(t->hw, total, obj->nodeset, HWLOC_MEMBIND_BIND,
                                    HWLOC_MEMBIND_BYNODESET | HWLOC_MEMBIND_STRICT);
    }
    return mem_finish(p, total, bound);
}

void *topo_alloc_interleaved(const topo *t, size_t size, bool *bound)
{
    size_t total;
    void *p = NULL;

    if (bound)
        *bound = false;
    if (size > SIZE_MAX - TOPO_MEM_HEADER)
        return NULL;
    total = size + TOPO_MEM_HEADER;
    /* Interleaving over one node is plain memory: only ask hwloc when there are several. */
    if (t->machine && t->nodes > 1) {
        hwloc_const_nodeset_t all = hwloc_topology_get_topology_nodeset(t->hw);
        if (all)
            p = hwloc_alloc_membind(t->hw, total, all, HWLOC_MEMBIND_INTERLEAVE,
                                    HWLOC_MEMBIND_BYNODESET | HWLOC_MEMBIND_STRICT);
    }
    return mem_finish(p, total, bound);
}

void topo_free(const topo *t, void *p)
{
    topo_mem_header *h;
    if (!p)
        return;
    h = (topo_mem_header *)((char *)p - TOPO_MEM_HEADER);
    if (h->from_hwloc)
        hwloc_free(t->hw, h, h->total);
    else
        free(h);
}

/* ---------------------------------------------------------------- reports ---- */

/* A growable string for the reports; `oom` sticks once an allocation fails. */
typedef struct topo_buf {
    char *s;
    size_t len, cap;
    bool oom;
} topo_buf;

static void buf_printf(topo_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void buf_printf(topo_buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;
    if (b->oom)
        return;
    va_start(ap, fmt);
    n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? b->cap - b->len : 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->oom = true;
        return;
    }
    if (!b->s || b->len + (size_t)n + 1 > b->cap) {
        size_t cap = (b->cap ? b->cap * 2 : 512) + (size_t)n + 1;
        char *ns = realloc(b->s, cap);
        if (!ns) {
            b->oom = true;
            return;
        }
        b->s = ns;
        b->cap = cap;
        va_start(ap, fmt);
        vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
    }
    b->len += (size_t)n;
}

static char *buf_finish(topo_buf *b)
{
    if (b->oom) {
        free(b->s);
        return NULL;
    }
    return b->s;
}

/* The OS numbers of the PUs worker w is bound to, as an hwloc list ("0-1,8"). */
static void worker_cpus(const topo *t, int w, char *out, size_t size)
{
    if (hwloc_bitmap_list_snprintf(out, size, t->ring[w % t->nring].cpuset) < 0 && size)
        out[0] = '\0';
}

/* JSON string body: the source may contain a user's file name. */
static void buf_json_string(topo_buf *b, const char *s)
{
    buf_printf(b, "\"");
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            buf_printf(b, "\\%c", c);
        else if (c < 0x20)
            buf_printf(b, "\\u%04x", c);
        else
            buf_printf(b, "%c", c);
    }
    buf_printf(b, "\"");
}

char *topo_describe(const topo *t, int workers)
{
    topo_buf b = {0};
    char cpus[256];
    buf_printf(&b, "topology: %s%s\n", t->source, t->machine ? "" : " (not this machine: pinning is a no-op)");
    buf_printf(&b, "  %d package%s, %d NUMA node%s, %d core%s, %d PU%s\n", t->packages,
               t->packages == 1 ? "" : "s", t->nodes, t->nodes == 1 ? "" : "s", t->cores,
               t->cores == 1 ? "" : "s", t->pus, t->pus == 1 ? "" : "s");
    if (t->machine) {
        buf_printf(&b, "  usable CPUs: %d (affinity %d", t->default_workers, t->affinity_cpus);
        if (t->cgroup_cpus > 0)
            buf_printf(&b, ", cgroup quota %d)\n", t->cgroup_cpus);
        else
            buf_printf(&b, ", no cgroup quota)\n");
    } else {
        buf_printf(&b, "  default workers: %d (the topology's cores)\n", t->default_workers);
    }
    buf_printf(&b, "  placement of %d worker%s:\n", workers, workers == 1 ? "" : "s");
    for (int w = 0; w < workers; w++) {
        worker_cpus(t, w, cpus, sizeof cpus);
        buf_printf(&b, "    worker %d -> core %d (PUs %s), NUMA node %d\n", w, topo_worker_core(t, w), cpus,
                   topo_worker_node(t, w));
    }
    return buf_finish(&b);
}

char *topo_json(const topo *t, int workers)
{
    topo_buf b = {0};
    char cpus[256];
    buf_printf(&b, "{\"source\":");
    buf_json_string(&b, t->source);
    buf_printf(&b, ",\"machine\":%s,\"packages\":%d,\"numa_nodes\":%d,\"cores\":%d,\"pus\":%d,"
               "\"default_workers\":%d,\"placement\":[",
               t->machine ? "true" : "false", t->packages, t->nodes, t->cores, t->pus, t->default_workers);
    for (int w = 0; w < workers; w++) {
        worker_cpus(t, w, cpus, sizeof cpus);
        buf_printf(&b, "%s{\"worker\":%d,\"core\":%d,\"node\":%d,\"cpus\":\"%s\"}", w ? "," : "", w,
                   topo_worker_core(t, w), topo_worker_node(t, w), cpus);
    }
    buf_printf(&b, "]}");
    return buf_finish(&b);
}
