/*
 * test_linux_parse.c - the Linux layer's pure parsers: numa_maps (fixture
 * files, inline cases, every file of the malformed corpus), maps lines and
 * the mapping filters, task stat (comm with spaces and parentheses), node
 * meminfo, QEMU's -name, vCPU thread names, and the pacing rule.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "linux/linux_internal.h"
#include "np_test.h"
#include "util/text.h"

#define KVMHOST NP_FIXTURES_DIR "/linux/kvmhost-2n"
#define KIB 1024ull
#define PAGE4K 4096ull

static char *slurp(const char *path, size_t *len)
{
    char *buf = NULL;
    if (np_read_file(path, 1u << 24, &buf, len) < 0) {
        fprintf(stderr, "cannot read %s\n", path);
        return NULL;
    }
    return buf;
}

static int parse_str(const char *text, np_linux_mem *m, np_error *err)
{
    return np_linux_numa_maps_parse(text, strlen(text), "t", m, err);
}

/* ---- numa_maps ---- */

static void test_numa_maps_db_fixture(void)
{
    size_t len;
    char *text = slurp(KVMHOST "/proc/3100/numa_maps", &len);
    np_linux_mem m = {0};
    np_error err = {0};
    ASSERT_TRUE(text != NULL);
    ASSERT_EQ(np_linux_numa_maps_parse(text, len, "db", &m, &err), 0);
    /* Sums of the N0=/N1= columns of the fixture, in 4 KiB pages. */
    ASSERT_EQ(m.nr_node_slots, 2);
    ASSERT_U64_EQ(m.bytes_by_node_os_id[0],
                  (410 + 1200 + 929 + 262 + 1000 + 786432 + 40 + 233) * PAGE4K);
    ASSERT_U64_EQ(m.bytes_by_node_os_id[1], (502 + 293 + 262144 + 33 + 512 + 12) * PAGE4K);
    /* Lines without file=: heap, two anonymous mappings, stack. */
    ASSERT_U64_EQ(m.anon_bytes_by_node_os_id[0], (1000 + 786432) * PAGE4K);
    ASSERT_U64_EQ(m.anon_bytes_by_node_os_id[1], (293 + 262144 + 33 + 12) * PAGE4K);
    ASSERT_U64_EQ(m.total_bytes, m.bytes_by_node_os_id[0] + m.bytes_by_node_os_id[1]);
    ASSERT_U64_EQ(m.huge_bytes, 0);
    ASSERT_U64_EQ(m.mappings, 13);
    np_linux_mem_fini(&m);
    free(text);
}

static void test_numa_maps_hugetlb_and_spaced_policies(void)
{
    size_t len;
    char *text = slurp(KVMHOST "/proc/4100/numa_maps", &len);
    np_linux_mem m = {0};
    np_error err = {0};
    ASSERT_TRUE(text != NULL);
    ASSERT_EQ(np_linux_numa_maps_parse(text, len, "rhel9", &m, &err), 0);
    /* 1024 huge pages of 2048 kB on node 1: 2 GiB. */
    ASSERT_U64_EQ(m.huge_bytes, 1024 * 2048 * KIB);
    /* by page size and node: one size, all of it on node 1 */
    ASSERT_U64_EQ(m.huge_page_bytes[0], 2048 * KIB);
    ASSERT_U64_EQ(m.huge_page_bytes[1], 0);
    ASSERT_U64_EQ(m.huge_by_node_os_id[1 * NP_LINUX_HUGE_SIZES_MAX + 0], 1024 * 2048 * KIB);
    ASSERT_U64_EQ(m.huge_by_node_os_id[0 * NP_LINUX_HUGE_SIZES_MAX + 0], 0);
    ASSERT_U64_EQ(m.bytes_by_node_os_id[0], (300 + 256 + 32) * PAGE4K);
    ASSERT_U64_EQ(m.bytes_by_node_os_id[1], (800 + 256 + 32) * PAGE4K + 1024 * 2048 * KIB);
    /* The hugetlbfs file is not anonymous; "prefer (many)" and "weighted
     * interleave" lines are. */
    ASSERT_U64_EQ(m.anon_bytes_by_node_os_id[1], (800 + 256 + 32) * PAGE4K);
    ASSERT_U64_EQ(m.anon_bytes_by_node_os_id[0], (256 + 32) * PAGE4K);
    ASSERT_U64_EQ(m.mappings, 5);
    np_linux_mem_fini(&m);
    free(text);
}

static void test_numa_maps_captured_qemu(void)
{
    /* The real QEMU capture (with the edited guest-RAM line). */
    size_t len;
    char *text = slurp(KVMHOST "/proc/16186/numa_maps", &len);
    np_linux_mem m = {0};
    np_error err = {0};
    ASSERT_TRUE(text != NULL);
    ASSERT_EQ(np_linux_numa_maps_parse(text, len, "web1", &m, &err), 0);
    ASSERT_EQ(m.nr_node_slots, 2);
    ASSERT_U64_EQ(m.bytes_by_node_os_id[1], 12288 * PAGE4K);
    ASSERT_TRUE(m.anon_bytes_by_node_os_id[0] >= 28672 * PAGE4K);
    ASSERT_U64_EQ(m.mappings, 345);
    np_linux_mem_fini(&m);
    free(text);
}

static void test_numa_maps_inline(void)
{
    np_linux_mem m = {0};
    np_error err = {0};
    /* Sparse node ids, a THP mapping counted in base pages, a line without
     * pages, no trailing newline. */
    ASSERT_EQ(parse_str("7f0000000000 default anon=1536 dirty=1536 N0=512 N33=1024 "
                        "kernelpagesize_kB=4\n"
                        "7f0000800000 interleave:0,33 anon=4 N73=4 kernelpagesize_kB=4\n"
                        "7f0001000000 default",
                        &m, &err),
              0);
    ASSERT_EQ(m.nr_node_slots, 74);
    ASSERT_U64_EQ(m.bytes_by_node_os_id[0], 512 * PAGE4K);
    ASSERT_U64_EQ(m.bytes_by_node_os_id[33], 1024 * PAGE4K);
    ASSERT_U64_EQ(m.bytes_by_node_os_id[73], 4 * PAGE4K);
    ASSERT_U64_EQ(m.bytes_by_node_os_id[1], 0);
    ASSERT_U64_EQ(m.mappings, 3);
    /* Empty input: a zombie's numa_maps. */
    ASSERT_EQ(parse_str("", &m, &err), 0);
    ASSERT_U64_EQ(m.total_bytes, 0);
    ASSERT_EQ(m.nr_node_slots, 0);
    /* 64 KiB base pages (arm64, ppc64). */
    ASSERT_EQ(parse_str("ffff80000000 default anon=10 N2=10 kernelpagesize_kB=64\n", &m, &err), 0);
    ASSERT_U64_EQ(m.bytes_by_node_os_id[2], 10 * 64 * KIB);
    np_linux_mem_fini(&m);
}

static void test_numa_maps_errors_keep_output(void)
{
    np_linux_mem m = {0};
    np_error err = {0};
    ASSERT_EQ(parse_str("7f00 default N0=3 kernelpagesize_kB=4\n", &m, &err), 0);
    ASSERT_EQ(parse_str("7f00 default N0=1 kernelpagesize_kB=4\n7f01 default N5=1\n", &m, &err),
              -EINVAL);
    ASSERT_EQ(err.line, 2);
    ASSERT_STR_EQ(err.origin, "t");
    ASSERT_CONTAINS(err.msg, "kernelpagesize_kB");
    /* The earlier result is untouched: no partial result. */
    ASSERT_U64_EQ(m.total_bytes, 3 * PAGE4K);
    ASSERT_EQ(m.nr_node_slots, 1);
    np_linux_mem_fini(&m);
}

static void test_numa_maps_malformed_corpus(void)
{
    const char *dir = NP_FIXTURES_DIR "/malformed";
    DIR *d = opendir(dir);
    struct dirent *e;
    int files = 0;
    ASSERT_TRUE(d != NULL);
    while (d && (e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, "numa_maps-", 10) != 0)
            continue;
        char path[512];
        size_t len;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        char *text = slurp(path, &len);
        np_linux_mem m = {0};
        np_error err = {0};
        int rc = np_linux_numa_maps_parse(text, len, e->d_name, &m, &err);
        if (rc != -EINVAL || err.line == 0 || err.msg[0] == '\0')
            fprintf(stderr, "  %s: rc=%d line=%u msg=%s\n", e->d_name, rc, err.line, err.msg);
        ASSERT_EQ(rc, -EINVAL);
        ASSERT_TRUE(err.line >= 1);
        ASSERT_STR_EQ(err.origin, e->d_name);
        ASSERT_TRUE(err.msg[0] != '\0');
        ASSERT_EQ(m.nr_node_slots, 0);
        np_linux_mem_fini(&m);
        free(text);
        files++;
    }
    if (d)
        closedir(d);
    ASSERT_TRUE(files >= 10);
}

static void test_numa_maps_specific_messages(void)
{
    np_linux_mem m = {0};
    np_error err = {0};
    ASSERT_EQ(parse_str("7f00 default N0=1 N0=2 kernelpagesize_kB=4\n", &m, &err), -EINVAL);
    ASSERT_CONTAINS(err.msg, "N0 listed twice");
    ASSERT_EQ(parse_str("7f00 default N1024=1 kernelpagesize_kB=4\n", &m, &err), -EINVAL);
    ASSERT_CONTAINS(err.msg, "up to 1023");
    ASSERT_EQ(parse_str("zz default\n", &m, &err), -EINVAL);
    ASSERT_CONTAINS(err.msg, "hexadecimal mapping address");
    ASSERT_EQ(parse_str("7f00 default N0=1 kernelpagesize_kB=12\n", &m, &err), -EINVAL);
    ASSERT_CONTAINS(err.msg, "power of two");
    ASSERT_EQ(parse_str("7f00 default huge N0=9007199254740992 kernelpagesize_kB=2048\n", &m, &err),
              -EINVAL);
    ASSERT_CONTAINS(err.msg, "too large");
    /* A node may be listed again on another line (not a duplicate). */
    ASSERT_EQ(parse_str("7f00 default N0=1 kernelpagesize_kB=4\n7f01 default N0=2 "
                        "kernelpagesize_kB=4\n",
                        &m, &err),
              0);
    ASSERT_U64_EQ(m.bytes_by_node_os_id[0], 3 * PAGE4K);
    np_linux_mem_fini(&m);
}

/* ---- maps ---- */

static void test_maps_line(void)
{
    np_linux_map m;
    ASSERT_EQ(np_linux_maps_parse_line("7f767437d000-7f767439f000 rw-p 00000000 00:00 0 ", &m), 0);
    ASSERT_U64_EQ(m.start, 0x7f767437d000ull);
    ASSERT_U64_EQ(m.end, 0x7f767439f000ull);
    ASSERT_STR_EQ(m.perms, "rw-p");
    ASSERT_STR_EQ(m.path, "");
    ASSERT_TRUE(np_linux_map_is_anon(&m));
    ASSERT_EQ(np_linux_maps_parse_line("7f1b05000000-7f1b05200000 rw-s 00000000 00:01 4101"
                                       "                       /memfd:vhost-vring (deleted)",
                                       &m),
              0);
    ASSERT_STR_EQ(m.path, "/memfd:vhost-vring (deleted)");
    ASSERT_U64_EQ(m.inode, 4101);
    ASSERT_TRUE(!np_linux_map_is_anon(&m));
    /* Errors: end before start, bad perms, missing fields. */
    ASSERT_EQ(np_linux_maps_parse_line("2000-1000 rw-p 0 00:00 0", &m), -EINVAL);
    ASSERT_EQ(np_linux_maps_parse_line("1000-2000 rwzp 0 00:00 0", &m), -EINVAL);
    ASSERT_EQ(np_linux_maps_parse_line("1000-2000 rw-p 0 00:00", &m), -EINVAL);
    ASSERT_EQ(np_linux_maps_parse_line("1000-2000 rw-p 0 00:00 12x /a", &m), -EINVAL);
    ASSERT_EQ(np_linux_maps_parse_line("", &m), -EINVAL);
}

static void count_ranges(const char *text, size_t len, np_linux_map_filter f, size_t *n_out,
                         uint64_t *bytes_out)
{
    np_linux_range *r = NULL;
    np_error err = {0};
    *n_out = 0;
    *bytes_out = 0;
    ASSERT_EQ(np_linux_maps_ranges_parse(text, len, "maps", f, &r, n_out, &err), 0);
    for (size_t i = 0; i < *n_out; i++)
        *bytes_out += r[i].end - r[i].start;
    free(r);
}

static void test_maps_filters(void)
{
    size_t len, n;
    uint64_t bytes;
    char *text = slurp(KVMHOST "/proc/3100/maps", &len);
    ASSERT_TRUE(text != NULL);
    /* Anonymous private: heap, the 4 GiB guest RAM, the 0x21000 arena, stack
     * (not the ---p guard, not the rw-s memfd, not [vvar]/[vdso]). */
    count_ranges(text, len, NP_LINUX_MAPS_ANON, &n, &bytes);
    ASSERT_EQ(n, 4);
    ASSERT_U64_EQ(bytes, 0x50d000ull + 0x100000000ull + 0x21000ull + 0x21000ull);
    /* Writable adds the rw-p data segment of the binary and the memfd. */
    count_ranges(text, len, NP_LINUX_MAPS_WRITABLE, &n, &bytes);
    ASSERT_EQ(n, 6);
    /* All readable ones, minus vvar/vdso/vsyscall and the guard. */
    count_ranges(text, len, NP_LINUX_MAPS_ALL, &n, &bytes);
    ASSERT_EQ(n, 11);
    free(text);

    np_linux_range *r = NULL;
    np_error err = {0};
    const char *bad = "1000-2000 rw-p 0 00:00 0\nnonsense\n";
    ASSERT_EQ(np_linux_maps_ranges_parse(bad, strlen(bad), "m", NP_LINUX_MAPS_ALL, &r, &n, &err),
              -EINVAL);
    ASSERT_EQ(err.line, 2);
    ASSERT_CONTAINS(err.msg, "start-end perms");
}

/* ---- task stat ---- */

static void test_task_stat(void)
{
    size_t len;
    np_linux_task_stat st;
    np_error err = {0};
    char *text = slurp(KVMHOST "/proc/3100/task/3107/stat", &len);
    ASSERT_TRUE(text != NULL);
    ASSERT_EQ(np_linux_task_stat_parse(text, len, "stat", &st, &err), 0);
    ASSERT_EQ(st.tid, 3107);
    ASSERT_EQ(st.state, 'S');
    ASSERT_EQ(st.flags, 4194560);
    ASSERT_U64_EQ(st.utime_ticks, 10);
    ASSERT_U64_EQ(st.stime_ticks, 20);
    ASSERT_EQ(st.processor, 0);
    free(text);

    /* The real capture: "CPU 1/TCG" last ran on CPU 1. */
    text = slurp(KVMHOST "/proc/16186/task/16190/stat", &len);
    ASSERT_TRUE(text != NULL);
    ASSERT_EQ(np_linux_task_stat_parse(text, len, "stat", &st, &err), 0);
    ASSERT_EQ(st.tid, 16190);
    ASSERT_EQ(st.processor, 1);
    ASSERT_EQ(st.flags, 138412224); /* the real capture's PF_* bits */
    free(text);

    const char *cut = "42 (x) R 1 1 1 0 -1 0 0 0 0 0 7 8 0 0 20 0 1\n";
    ASSERT_EQ(np_linux_task_stat_parse(cut, strlen(cut), "cut", &st, &err), -EINVAL);
    ASSERT_CONTAINS(err.msg, "at least 39 fields");
    const char *nocomm = "42 x R 1\n";
    ASSERT_EQ(np_linux_task_stat_parse(nocomm, strlen(nocomm), "nc", &st, &err), -EINVAL);
    const char *badtime = "42 (a b) R 1 1 1 0 -1 0 0 0 0 0 -7 8 0 0 20 0 1 0 1 1 1 1 1 1 1 1 1 "
                          "1 1 1 1 1 1 1 1 1 1 3\n";
    ASSERT_EQ(np_linux_task_stat_parse(badtime, strlen(badtime), "bt", &st, &err), -EINVAL);
    ASSERT_CONTAINS(err.msg, "field 14");
}

/* ---- QEMU names ---- */

static int name_of(const char *const *argv, size_t argc, char **out)
{
    char buf[1024];
    size_t len = 0;
    for (size_t i = 0; i < argc; i++) {
        size_t l = strlen(argv[i]) + 1;
        memcpy(buf + len, argv[i], l);
        len += l;
    }
    *out = NULL;
    return np_linux_qemu_name_parse(buf, len, out);
}

static void check_name(const char *const *argv, size_t argc, const char *want)
{
    char *name = NULL;
    int rc = name_of(argv, argc, &name);
    if (want) {
        ASSERT_EQ(rc, 0);
        ASSERT_STR_EQ(name, want);
    } else {
        ASSERT_EQ(rc, -ENOENT);
        ASSERT_TRUE(name == NULL);
    }
    free(name);
}

static void test_qemu_name(void)
{
    const char *libvirt[] = {"/usr/bin/qemu-system-x86_64", "-name", "guest=web1,debug-threads=on",
                             "-S"};
    check_name(libvirt, 4, "web1");
    const char *plain[] = {"qemu-system-x86_64", "-m", "1G", "-name", "db"};
    check_name(plain, 5, "db");
    const char *implied[] = {"qemu", "--name", "vm7,process=vmx,debug-threads=on"};
    check_name(implied, 3, "vm7");
    const char *escaped[] = {"qemu-kvm", "-name", "guest=rhel9,,prod,debug-threads=on"};
    check_name(escaped, 3, "rhel9,prod");
    const char *later_key[] = {"qemu", "-name", "process=p,guest=late"};
    check_name(later_key, 3, "late");
    const char *none[] = {"qemu", "-m", "1G"};
    check_name(none, 3, NULL);
    const char *dangling[] = {"qemu", "-name"};
    check_name(dangling, 2, NULL);
    const char *empty[] = {"qemu", "-name", ""};
    check_name(empty, 3, NULL);
    const char *only_opts[] = {"qemu", "-name", "debug-threads=on"};
    check_name(only_opts, 3, NULL);
    const char *last_wins[] = {"qemu", "-name", "a", "-name", "b"};
    check_name(last_wins, 5, "b");
    /* Without a final NUL (cmdline as the kernel may cut it). */
    char *name = NULL;
    ASSERT_EQ(np_linux_qemu_name_parse("q\0-name\0tail", 13, &name), 0);
    ASSERT_STR_EQ(name, "tail");
    free(name);
}

static void test_vcpu_comm(void)
{
    int32_t v = -1;
    ASSERT_EQ(np_linux_vcpu_from_comm("CPU 0/KVM", &v), 0);
    ASSERT_EQ(v, 0);
    ASSERT_EQ(np_linux_vcpu_from_comm("CPU 127/TCG", &v), 0);
    ASSERT_EQ(v, 127);
    ASSERT_EQ(np_linux_vcpu_from_comm("CPU 3/HVF", &v), 0);
    ASSERT_EQ(v, 3);
    ASSERT_EQ(np_linux_vcpu_from_comm("CPU /KVM", &v), -EINVAL);
    ASSERT_EQ(np_linux_vcpu_from_comm("CPU 1/", &v), -EINVAL);
    ASSERT_EQ(np_linux_vcpu_from_comm("CPU 1 KVM", &v), -EINVAL);
    ASSERT_EQ(np_linux_vcpu_from_comm("qemu-system-x86", &v), -EINVAL);
    ASSERT_EQ(np_linux_vcpu_from_comm("CPU 1/KVM x", &v), -EINVAL);
}

/* ---- node meminfo ---- */

static void test_meminfo(void)
{
    size_t len;
    np_linux_node_meminfo mi;
    np_error err = {0};
    char *text = slurp(KVMHOST "/sys/devices/system/node/node1/meminfo", &len);
    ASSERT_TRUE(text != NULL);
    ASSERT_EQ(np_linux_node_meminfo_parse(text, len, 1, "mi", &mi, &err), 0);
    ASSERT_U64_EQ(mi.total_bytes, 66043008ull * KIB);
    ASSERT_U64_EQ(mi.free_bytes, 12582912ull * KIB);
    ASSERT_U64_EQ(mi.inactive_file_bytes, 1048576ull * KIB);
    /* Asking for another node's numbers is an error, not a silent zero. */
    ASSERT_EQ(np_linux_node_meminfo_parse(text, len, 0, "mi", &mi, &err), -EINVAL);
    ASSERT_EQ(err.line, 1);
    ASSERT_CONTAINS(err.msg, "node number 0");
    free(text);

    const char *nofree = "Node 2 MemTotal: 100 kB\n";
    ASSERT_EQ(np_linux_node_meminfo_parse(nofree, strlen(nofree), 2, "m", &mi, &err), -EINVAL);
    ASSERT_CONTAINS(err.msg, "MemFree");
    const char *bytes = "Node 2 MemTotal: 100 kB\nNode 2 MemFree: 5\n";
    ASSERT_EQ(np_linux_node_meminfo_parse(bytes, strlen(bytes), 2, "m", &mi, &err), -EINVAL);
    ASSERT_EQ(err.line, 2);
    const char *junk = "Node 2 MemTotal: 100 kB\nNode 2 MemFree: 5 kB extra\n";
    ASSERT_EQ(np_linux_node_meminfo_parse(junk, strlen(junk), 2, "m", &mi, &err), -EINVAL);
}

/* ---- pacing ---- */

static void test_pace(void)
{
    const uint64_t mib = 1ull << 20, s = 1000000000ull;
    /* No budget: the next batch may start now. */
    ASSERT_U64_EQ(np_linux_pace_next_ns(0, 0, 500, 64 * mib), 500);
    /* 16 MiB at 256 MiB/s: 62.5 ms after the batch's start. */
    ASSERT_U64_EQ(np_linux_pace_next_ns(256 * mib, 0, 1000, 16 * mib), 1000 + 62500000);
    /* A batch started before its allowed time is charged from that time. */
    ASSERT_U64_EQ(np_linux_pace_next_ns(256 * mib, 5 * s, 4 * s, 256 * mib), 6 * s);
    /* Idle time saves no credit: a late batch is charged from its start. */
    ASSERT_U64_EQ(np_linux_pace_next_ns(256 * mib, 1 * s, 9 * s, 256 * mib), 10 * s);
    /* Nothing moved: no wait. */
    ASSERT_U64_EQ(np_linux_pace_next_ns(mib, 0, 7, 0), 7);
    /* Huge numbers saturate instead of wrapping. */
    ASSERT_U64_EQ(np_linux_pace_next_ns(1, UINT64_MAX - 5, 0, UINT64_MAX), UINT64_MAX);
    /* A budget above 18 GB/s still gives a sane wait: 1 GiB at 32 GiB/s. */
    ASSERT_U64_EQ(np_linux_pace_next_ns(32ull << 30, 0, 0, 1ull << 30), 31250000);
}

int main(void)
{
    NP_RUN(test_numa_maps_db_fixture);
    NP_RUN(test_numa_maps_hugetlb_and_spaced_policies);
    NP_RUN(test_numa_maps_captured_qemu);
    NP_RUN(test_numa_maps_inline);
    NP_RUN(test_numa_maps_errors_keep_output);
    NP_RUN(test_numa_maps_malformed_corpus);
    NP_RUN(test_numa_maps_specific_messages);
    NP_RUN(test_maps_line);
    NP_RUN(test_maps_filters);
    NP_RUN(test_task_stat);
    NP_RUN(test_qemu_name);
    NP_RUN(test_vcpu_comm);
    NP_RUN(test_meminfo);
    NP_RUN(test_pace);
    return np_test_summary();
}
