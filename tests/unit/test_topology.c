/* test_topology.c — unit tests of runtime/topology: counts, placement, usable cores, cgroup quota, pinning, NUMA memory. */
#include "check.h"
#include "runtime/topology.h"

#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* hwloc's export of "numa:2 core:2 pu:1", trimmed: 2 NUMA nodes of 2 single-PU cores each. */
static const char xml_topology[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<!DOCTYPE topology SYSTEM \"hwloc2.dtd\">\n"
    "<topology version=\"2.0\">\n"
    " <object type=\"Machine\" os_index=\"0\" cpuset=\"0x0000000f\" complete_cpuset=\"0x0000000f\""
    "  allowed_cpuset=\"0x0000000f\" nodeset=\"0x00000003\" complete_nodeset=\"0x00000003\""
    "  allowed_nodeset=\"0x00000003\" gp_index=\"1\">\n"
    "  <object type=\"Group\" cpuset=\"0x00000003\" complete_cpuset=\"0x00000003\" nodeset=\"0x00000001\""
    "   complete_nodeset=\"0x00000001\" gp_index=\"7\" kind=\"1001\" subkind=\"0\">\n"
    "   <object type=\"NUMANode\" os_index=\"0\" cpuset=\"0x00000003\" complete_cpuset=\"0x00000003\""
    "    nodeset=\"0x00000001\" complete_nodeset=\"0x00000001\" gp_index=\"6\" local_memory=\"1073741824\"/>\n"
    "   <object type=\"Core\" os_index=\"0\" cpuset=\"0x00000001\" complete_cpuset=\"0x00000001\""
    "    nodeset=\"0x00000001\" complete_nodeset=\"0x00000001\" gp_index=\"3\">\n"
    "    <object type=\"PU\" os_index=\"0\" cpuset=\"0x00000001\" complete_cpuset=\"0x00000001\""
    "     nodeset=\"0x00000001\" complete_nodeset=\"0x00000001\" gp_index=\"2\"/>\n"
    "   </object>\n"
    "   <object type=\"Core\" os_index=\"1\" cpuset=\"0x00000002\" complete_cpuset=\"0x00000002\""
    "    nodeset=\"0x00000001\" complete_nodeset=\"0x00000001\" gp_index=\"5\">\n"
    "    <object type=\"PU\" os_index=\"1\" cpuset=\"0x00000002\" complete_cpuset=\"0x00000002\""
    "     nodeset=\"0x00000001\" complete_nodeset=\"0x00000001\" gp_index=\"4\"/>\n"
    "   </object>\n"
    "  </object>\n"
    "  <object type=\"Group\" cpuset=\"0x0000000c\" complete_cpuset=\"0x0000000c\" nodeset=\"0x00000002\""
    "   complete_nodeset=\"0x00000002\" gp_index=\"13\" kind=\"1001\" subkind=\"0\">\n"
    "   <object type=\"NUMANode\" os_index=\"1\" cpuset=\"0x0000000c\" complete_cpuset=\"0x0000000c\""
    "    nodeset=\"0x00000002\" complete_nodeset=\"0x00000002\" gp_index=\"12\" local_memory=\"1073741824\"/>\n"
    "   <object type=\"Core\" os_index=\"2\" cpuset=\"0x00000004\" complete_cpuset=\"0x00000004\""
    "    nodeset=\"0x00000002\" complete_nodeset=\"0x00000002\" gp_index=\"9\">\n"
    "    <object type=\"PU\" os_index=\"2\" cpuset=\"0x00000004\" complete_cpuset=\"0x00000004\""
    "     nodeset=\"0x00000002\" complete_nodeset=\"0x00000002\" gp_index=\"8\"/>\n"
    "   </object>\n"
    "   <object type=\"Core\" os_index=\"3\" cpuset=\"0x00000008\" complete_cpuset=\"0x00000008\""
    "    nodeset=\"0x00000002\" complete_nodeset=\"0x00000002\" gp_index=\"11\">\n"
    "    <object type=\"PU\" os_index=\"3\" cpuset=\"0x00000008\" complete_cpuset=\"0x00000008\""
    "     nodeset=\"0x00000002\" complete_nodeset=\"0x00000002\" gp_index=\"10\"/>\n"
    "   </object>\n"
    "  </object>\n"
    " </object>\n"
    "</topology>\n";

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (!f)
        return;
    fputs(text, f);
    fclose(f);
}

/* mkdir -p for the fake cgroup trees. */
static void make_dirs(const char *path)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            mkdir(buf, 0755);
            *p = '/';
        }
    }
    mkdir(buf, 0755);
}

static void test_synthetic(void)
{
    char err[256] = "";
    topo *t = NULL;
    int per_node[4] = {0};
    int want_core[8] = {0, 4, 8, 12, 1, 5, 9, 13};
    char *json, *text;

    CHECK(topo_create("package:2 numa:2 core:4 pu:2", &t, err, sizeof err) == 0);
    if (!t) {
        fprintf(stderr, "synthetic topology: %s\n", err);
        return;
    }
    CHECK(topo_packages(t) == 2);
    CHECK(topo_numa_nodes(t) == 4);
    CHECK(topo_cores(t) == 16);
    CHECK(topo_pus(t) == 32);
    CHECK(!topo_is_machine(t));
    CHECK(topo_default_workers(t) == 16);
    CHECK(topo_ring_size(t) == 16);

    /* The rule: one worker per NUMA node before any node gets a second. */
    for (int w = 0; w < 8; w++) {
        int node = topo_worker_node(t, w);
        CHECK(topo_worker_core(t, w) == want_core[w]);
        CHECK(node == w % 4);
        CHECK(node >= 0 && node < 4);
        if (node >= 0 && node < 4)
            per_node[node]++;
        /* Core c of this topology lies in node c / 4. */
        CHECK(topo_worker_core(t, w) / 4 == node);
    }
    for (int n = 0; n < 4; n++)
        CHECK(per_node[n] == 2);
    /* Sixteen workers use each core once; the ring wraps after that. */
    {
        int used[16] = {0};
        for (int w = 0; w < 16; w++) {
            int c = topo_worker_core(t, w);
            CHECK(c >= 0 && c < 16);
            if (c >= 0 && c < 16)
                used[c]++;
        }
        for (int c = 0; c < 16; c++)
            CHECK(used[c] == 1);
        CHECK(topo_worker_core(t, 16) == topo_worker_core(t, 0));
        CHECK(topo_worker_core(t, -1) == -1);
    }

    json = topo_json(t, 8);
    CHECK(json != NULL);
    if (json) {
        CHECK(strstr(json, "\"packages\":2,\"numa_nodes\":4,\"cores\":16,\"pus\":32") != NULL);
        CHECK(strstr(json, "{\"worker\":1,\"core\":4,\"node\":1,\"cpus\":\"8-9\"}") != NULL);
        CHECK(strstr(json, "{\"worker\":7,\"core\":13,\"node\":3,\"cpus\":\"26-27\"}") != NULL);
        CHECK(strstr(json, "\"worker\":8") == NULL);
        CHECK(json[0] == '{' && json[strlen(json) - 1] == '}');
        free(json);
    }
    text = topo_describe(t, 8);
    CHECK(text != NULL);
    if (text) {
        CHECK(strstr(text, "2 packages, 4 NUMA nodes, 16 cores, 32 PUs") != NULL);
        CHECK(strstr(text, "worker 7 -> core 13 (PUs 26-27), NUMA node 3") != NULL);
        free(text);
    }

    /* Pinning on a topology that is not this machine succeeds and does nothing. */
    {
        cpu_set_t before, after;
        CHECK(sched_getaffinity(0, sizeof before, &before) == 0);
        CHECK(topo_pin_worker(t, 5, err, sizeof err) == 0);
        CHECK(sched_getaffinity(0, sizeof after, &after) == 0);
        CHECK(CPU_EQUAL(&before, &after));
    }
    /* Memory on a node the machine does not have: ordinary memory. */
    {
        bool bound = true;
        char *p = topo_alloc_on_node(t, 3, 1000, &bound);
        CHECK(p != NULL);
        CHECK(!bound);
        if (p) {
            CHECK((uintptr_t)p % 64 == 0);
            memset(p, 0x5a, 1000);
        }
        topo_free(t, p);
        /* interleaved over the nodes of a topology that is not this machine: ordinary memory */
        bound = true;
        p = topo_alloc_interleaved(t, 200, &bound);
        CHECK(p != NULL);
        CHECK(!bound);
        if (p) CHECK((uintptr_t)p % 64 == 0);
        topo_free(t, p);
    }
    topo_destroy(t);

    /* Three nodes: first cores of every node, then the second ones. */
    CHECK(topo_create("numa:3 core:2 pu:1", &t, err, sizeof err) == 0);
    if (t) {
        int want[6] = {0, 2, 4, 1, 3, 5};
        for (int w = 0; w < 6; w++)
            CHECK(topo_worker_core(t, w) == want[w]);
        topo_destroy(t);
    }
}

static void test_errors_and_xml(void)
{
    char err[256] = "";
    char path[] = "/tmp/zx_topo_XXXXXX";
    topo *t = NULL;
    int fd;

    CHECK(topo_create("package:2 bogus:7", &t, err, sizeof err) == -1);
    CHECK(t == NULL);
    CHECK(strstr(err, "invalid synthetic topology") != NULL);
    err[0] = '\0';
    CHECK(topo_create("xml:", &t, err, sizeof err) == -1);
    CHECK(strstr(err, "needs a file name") != NULL);
    CHECK(topo_create("xml:/nonexistent/zx-topology.xml", &t, NULL, 0) == -1);
    CHECK(t == NULL);

    fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd < 0)
        return;
    close(fd);
    write_file(path, xml_topology);
    {
        char spec[64];
        snprintf(spec, sizeof spec, "xml:%s", path);
        CHECK(topo_create(spec, &t, err, sizeof err) == 0);
    }
    if (t) {
        char *json = topo_json(t, 4);
        CHECK(topo_numa_nodes(t) == 2);
        CHECK(topo_cores(t) == 4);
        CHECK(topo_pus(t) == 4);
        CHECK(!topo_is_machine(t));
        CHECK(topo_default_workers(t) == 4);
        CHECK(topo_worker_node(t, 0) == 0 && topo_worker_node(t, 1) == 1);
        CHECK(topo_worker_core(t, 1) == 2);
        CHECK(json && strstr(json, "\"source\":\"xml /tmp/zx_topo_") != NULL);
        free(json);
        topo_destroy(t);
    }
    unlink(path);
}

/* The count the design asks for, computed the simple way: affinity CPUs capped by the quota
 * in the conventional places of the cgroup v2 and v1 trees. */
static int expected_usable_cpus(void)
{
    cpu_set_t set;
    int n, quota_cpus = 0;
    long long q = 0, p = 0;
    FILE *f;
    char word[32];

    if (sched_getaffinity(0, sizeof set, &set) != 0)
        return -1;
    n = CPU_COUNT(&set);
    f = fopen("/sys/fs/cgroup/cpu.max", "r");
    if (f) {
        if (fscanf(f, "%31s %lld", word, &p) == 2 && strcmp(word, "max") != 0)
            quota_cpus = topo_quota_cpus(atoll(word), p);
        fclose(f);
    }
    f = fopen("/sys/fs/cgroup/cpu/cpu.cfs_quota_us", "r");
    if (f) {
        FILE *g = fopen("/sys/fs/cgroup/cpu/cpu.cfs_period_us", "r");
        if (g && fscanf(f, "%lld", &q) == 1 && fscanf(g, "%lld", &p) == 1 && topo_quota_cpus(q, p) > 0 &&
            (quota_cpus == 0 || topo_quota_cpus(q, p) < quota_cpus))
            quota_cpus = topo_quota_cpus(q, p);
        if (g)
            fclose(g);
        fclose(f);
    }
    return quota_cpus > 0 && quota_cpus < n ? quota_cpus : n;
}

static void test_machine(void)
{
    char err[256] = "";
    topo *t = NULL;
    topo_binding *saved;
    cpu_set_t original, pinned, restored;

    CHECK(topo_create(NULL, &t, err, sizeof err) == 0);
    if (!t) {
        fprintf(stderr, "machine topology: %s\n", err);
        return;
    }
    CHECK(topo_is_machine(t));
    CHECK(topo_pus(t) >= 1 && topo_cores(t) >= 1 && topo_numa_nodes(t) >= 1 && topo_packages(t) >= 1);
    CHECK(topo_default_workers(t) == expected_usable_cpus());
    CHECK(topo_default_workers(t) >= 1);
    CHECK(topo_ring_size(t) >= 1 && topo_ring_size(t) <= topo_cores(t));
    printf("machine: %d packages, %d NUMA nodes, %d cores, %d PUs, default workers %d\n", topo_packages(t),
           topo_numa_nodes(t), topo_cores(t), topo_pus(t), topo_default_workers(t));

    /* Pin and restore: the thread ends with exactly the binding it had. */
    CHECK(sched_getaffinity(0, sizeof original, &original) == 0);
    saved = topo_binding_new(t);
    CHECK(saved != NULL);
    if (saved) {
        int w = topo_ring_size(t) > 1 ? 1 : 0;
        CHECK(topo_binding_save(t, saved, err, sizeof err) == 0);
        CHECK(topo_pin_worker(t, w, err, sizeof err) == 0);
        CHECK(sched_getaffinity(0, sizeof pinned, &pinned) == 0);
        CHECK(CPU_COUNT(&pinned) >= 1);
        if (topo_ring_size(t) > 1)
            CHECK(!CPU_EQUAL(&pinned, &original));
        CHECK(topo_binding_restore(t, saved, err, sizeof err) == 0);
        CHECK(sched_getaffinity(0, sizeof restored, &restored) == 0);
        CHECK(CPU_EQUAL(&restored, &original));
        topo_binding_free(saved);
    }

    /* Memory: node 0 exists; a node index out of range falls back. */
    {
        bool bound = true;
        char *p = topo_alloc_on_node(t, 0, 1 << 20, &bound);
        CHECK(p != NULL);
        if (p) {
            CHECK((uintptr_t)p % 64 == 0);
            memset(p, 1, 1 << 20);
        }
        topo_free(t, p);
        p = topo_alloc_on_node(t, topo_numa_nodes(t) + 5, 4096, &bound);
        CHECK(p != NULL);
        CHECK(!bound);
        if (p)
            memset(p, 2, 4096);
        topo_free(t, p);
        p = topo_alloc_on_node(t, -1, 10, NULL);
        CHECK(p != NULL);
        topo_free(t, p);
        topo_free(t, NULL);
        /* interleaved: bound only where this machine has several nodes */
        p = topo_alloc_interleaved(t, 3 << 20, &bound);
        CHECK(p != NULL);
        CHECK(bound == (topo_numa_nodes(t) > 1));
        if (p) {
            CHECK((uintptr_t)p % 64 == 0);
            memset(p, 3, 3 << 20);
        }
        topo_free(t, p);
    }
    {
        char *json = topo_json(t, 3), *text = topo_describe(t, 3);
        CHECK(json && strstr(json, "\"source\":\"machine\",\"machine\":true") != NULL);
        CHECK(json && strstr(json, "{\"worker\":2,") != NULL);
        CHECK(text && strstr(text, "usable CPUs: ") != NULL);
        free(json);
        free(text);
    }
    topo_destroy(t);
}

/* A synthetic topology that claims to be this machine: binding is real and may fail, NUMA
 * allocation on a node the machine lacks fails with EINVAL and falls back. */
static void test_thissystem_synthetic(void)
{
    topo *t = NULL;
    char err[256];
    setenv("HWLOC_THISSYSTEM", "1", 1);
    CHECK(topo_create("package:2 numa:2 core:4 pu:2", &t, err, sizeof err) == 0);
    unsetenv("HWLOC_THISSYSTEM");
    if (!t)
        return;
    CHECK(topo_is_machine(t));
    {
        bool bound = true;
        char *p = topo_alloc_on_node(t, 3, 8192, &bound);
        CHECK(p != NULL);
        CHECK(!bound);
        if (p)
            memset(p, 3, 8192);
        topo_free(t, p);
    }
    topo_destroy(t);
}

static void test_cgroup(void)
{
    char root[] = "/tmp/zx_cgroup_XXXXXX", path[512];

    CHECK(topo_quota_cpus(150000, 100000) == 2);
    CHECK(topo_quota_cpus(100000, 100000) == 1);
    CHECK(topo_quota_cpus(250000, 100000) == 3);
    CHECK(topo_quota_cpus(1000, 100000) == 1);
    CHECK(topo_quota_cpus(-1, 100000) == 0);
    CHECK(topo_quota_cpus(50000, 0) == 0);

    if (!mkdtemp(root)) {
        CHECK(!"mkdtemp");
        return;
    }
    snprintf(path, sizeof path, "%s/proc/self", root);
    make_dirs(path);
    snprintf(path, sizeof path, "%s/sys/fs/cgroup/a/b", root);
    make_dirs(path);
    snprintf(path, sizeof path, "%s/sys/fs/cgroup/cpu,cpuacct/x", root);
    make_dirs(path);

    /* cgroup v2: the process's own cgroup limits to 2.5 CPUs, so 3. */
    snprintf(path, sizeof path, "%s/proc/self/cgroup", root);
    write_file(path, "0::/a/b\n");
    snprintf(path, sizeof path, "%s/proc/self/mountinfo", root);
    write_file(path, "22 1 0:21 / /proc rw - proc proc rw\n"
                     "31 23 0:28 / /sys/fs/cgroup rw,nosuid shared:9 - cgroup2 cgroup2 rw,nsdelegate\n");
    snprintf(path, sizeof path, "%s/sys/fs/cgroup/a/b/cpu.max", root);
    write_file(path, "250000 100000\n");
    snprintf(path, sizeof path, "%s/sys/fs/cgroup/a/cpu.max", root);
    write_file(path, "max 100000\n");
    CHECK(topo_cgroup_cpu_limit(root) == 3);
    /* A tighter parent caps its child. */
    write_file(path, "150000 100000\n");
    CHECK(topo_cgroup_cpu_limit(root) == 2);
    /* No quota anywhere. */
    write_file(path, "max 100000\n");
    snprintf(path, sizeof path, "%s/sys/fs/cgroup/a/b/cpu.max", root);
    write_file(path, "max 100000\n");
    CHECK(topo_cgroup_cpu_limit(root) == 0);

    /* cgroup v1 beside v2 (a hybrid host): the smaller limit wins. */
    write_file(path, "400000 100000\n");
    snprintf(path, sizeof path, "%s/proc/self/cgroup", root);
    write_file(path, "4:cpu,cpuacct:/x\n3:memory:/m\n0::/a/b\n");
    snprintf(path, sizeof path, "%s/proc/self/mountinfo", root);
    write_file(path, "31 23 0:28 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n"
                     "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct\n"
                     "33 31 0:30 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n");
    snprintf(path, sizeof path, "%s/sys/fs/cgroup/cpu,cpuacct/x/cpu.cfs_quota_us", root);
    write_file(path, "50000\n");
    snprintf(path, sizeof path, "%s/sys/fs/cgroup/cpu,cpuacct/x/cpu.cfs_period_us", root);
    write_file(path, "100000\n");
    CHECK(topo_cgroup_cpu_limit(root) == 1);
    snprintf(path, sizeof path, "%s/sys/fs/cgroup/cpu,cpuacct/x/cpu.cfs_quota_us", root);
    write_file(path, "-1\n");
    CHECK(topo_cgroup_cpu_limit(root) == 4);

    /* Inside a container: the mount's root is the container's cgroup. */
    snprintf(path, sizeof path, "%s/proc/self/cgroup", root);
    write_file(path, "0::/docker/abc\n");
    snprintf(path, sizeof path, "%s/proc/self/mountinfo", root);
    write_file(path, "31 23 0:28 /docker/abc /sys/fs/cgroup/a rw - cgroup2 cgroup2 rw\n");
    CHECK(topo_cgroup_cpu_limit(root) == 0);  /* a/cpu.max says max */
    snprintf(path, sizeof path, "%s/sys/fs/cgroup/a/cpu.max", root);
    write_file(path, "300000 100000\n");
    CHECK(topo_cgroup_cpu_limit(root) == 3);

    /* Nothing there at all. */
    CHECK(topo_cgroup_cpu_limit("/nonexistent-zx-root") == 0);
    {
        char cmd[600];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
        CHECK(system(cmd) == 0);
    }
}

int main(void)
{
    /* The environment must not turn "this machine" into a simulated one. */
    unsetenv("HWLOC_SYNTHETIC");
    unsetenv("HWLOC_XMLFILE");
    unsetenv("HWLOC_THISSYSTEM");
    unsetenv("HWLOC_FSROOT");
    test_synthetic();
    test_errors_and_xml();
    test_machine();
    test_thissystem_synthetic();
    test_cgroup();
    return CHECK_DONE();
}
