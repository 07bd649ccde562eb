/*
 * numaplace/linux.h - the Linux system-access layer under the Linux/KVM
 * backend: what a daemon (numaplaced) needs to sense and steer QEMU guests
 * on a NUMA host.
 *
 * Sense: find QEMU processes (libvirt's and plain ones) and their vCPU
 * threads, processes of a cgroup v2, memory per node of a process (from
 * /proc/PID/numa_maps, or by asking move_pages(2) where each page is),
 * threads' CPU time and last CPU, free memory and CPUs per node, KSM's
 * merge_across_nodes. Act: thread affinity, cgroup v2 cpuset.cpus/mems,
 * memory migration in short rate-limited batches with move_pages(2) (the
 * default) or a whole-process migrate_pages(2) when asked.
 *
 * Every /proc and /sys read (and the cgroup/KSM writes) goes through a
 * root directory file descriptor, so tests replay trees captured from real
 * multi-node hosts. System calls that act on processes (move_pages,
 * migrate_pages, sched_setaffinity) are only made when the root is the live
 * "/": on a fixture tree they return -EOPNOTSUPP, so a test can never move a
 * real process by a PID it read from a capture.
 *
 * The system calls are made directly (syscall(2) with the constants of
 * <numaif.h>); libnuma is not linked, because its constructor initialises
 * hidden global state in every program that loads it.
 *
 * The library never reads a clock by itself in the migration logic: the
 * caller passes a now_ns/sleep_ns pair (np_linux_clock_now_ns and
 * np_linux_clock_sleep_ns are the real ones), and a single batch
 * (np_linux_mover_step) says when the next one may start.
 *
 * Node and CPU numbers here are OS ids (the kernel's, possibly sparse).
 */
#ifndef NUMAPLACE_LINUX_H
#define NUMAPLACE_LINUX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <numaplace/bitmap.h>
#include <numaplace/common.h>
#include <numaplace/guest.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct np_linux_ctx np_linux_ctx;

/* Highest node os_id the layer accepts: the kernel's MAX_NUMNODES - 1 with
 * CONFIG_NODES_SHIFT=10, the x86-64 maximum. */
#define NP_LINUX_NODE_MAX_OS_ID 1023u

/* Pages per move_pages(2) call of the chunked mover (4 KiB pages: 16 MiB).
 * Why: katalyst replaced whole-process migrate_pages with move_pages chunks
 * sized to about 20 ms and saw the migrating process's blocking drop from
 * minutes to milliseconds (anchors.md section 3, katalyst PR #477). A 4 KiB
 * migration costs about 2-5 us on current servers (copy plus unmap, TLB
 * flush, remap), so 4096 pages is 8-20 ms; the mover also halves the batch
 * whenever one batch takes longer than NP_LINUX_MOVE_TARGET_BATCH_NS. */
#define NP_LINUX_MOVE_BATCH_PAGES 4096u
/* The batch duration the mover aims to stay under (20 ms, katalyst). */
#define NP_LINUX_MOVE_TARGET_BATCH_NS 20000000ull
/* Smallest batch the adaptive halving goes down to: 512 pages (2 MiB, one
 * huge page's worth). At the 2-5 us a page of real hardware a 512-page
 * batch takes 1-2.5 ms, far under the target, so the floor never binds
 * there; it binds where a page costs over 40 us, i.e. under emulation,
 * where the stall is set by when the host runs the other vCPUs, not by
 * the batch: on the TCG test guest 64-page batches took 2 ms to 521 ms and
 * moved 64 MiB no faster than 16384-page ones (docs/results-linux.md), and
 * the old floor of 64 pages only multiplied the batches. */
#define NP_LINUX_MOVE_MIN_BATCH_PAGES 512u
/* Batches over the target in a row before the mover halves: one slow
 * batch is noise. */
#define NP_LINUX_MOVE_HALVE_AFTER 2u
/* Pages per move_pages(2) status query when sensing (no migration, so no
 * stall: the size only bounds the arrays, 8192 * 16 bytes = 128 KiB). */
#define NP_LINUX_QUERY_BATCH_PAGES 8192u

/* ---- context -------------------------------------------------------- */

/* Opens `root` ("/" for the live system, or a directory holding a captured
 * proc/ and sys/ tree) as the directory every path is read relative to.
 * `log` may be NULL. -ENOENT / -ENOTDIR when root is not a directory. */
int np_linux_ctx_create(const char *root, np_log_fn log, void *opaque, np_linux_ctx **out);
void np_linux_ctx_destroy(np_linux_ctx *ctx);
/* True when the root is the live "/" (system calls on PIDs are allowed). */
bool np_linux_ctx_is_live(const np_linux_ctx *ctx);
/* The last parse error (origin = path under the root, line, message): set
 * whenever a function returned -EINVAL for malformed /proc or /sys text. */
const np_error *np_linux_ctx_last_error(const np_linux_ctx *ctx);
/* Base page size the query and migration walk steps by (sysconf). */
size_t np_linux_ctx_page_size(const np_linux_ctx *ctx);

/* The real clock for the callbacks below: CLOCK_MONOTONIC in ns, and a
 * nanosleep that resumes after signals. `opaque` is unused. */
uint64_t np_linux_clock_now_ns(void *opaque);
void np_linux_clock_sleep_ns(void *opaque, uint64_t ns);

/* ---- nodes (sysfs) --------------------------------------------------- */

/* Online nodes (sys/devices/system/node/online). */
int np_linux_nodes_online(np_linux_ctx *ctx, np_bitmap **nodes_out);
/* CPUs of a node (nodeN/cpulist); empty for a CPU-less node. */
int np_linux_node_cpus(np_linux_ctx *ctx, unsigned node_os_id, np_bitmap **cpus_out);
/* A PCI device's node: sys/bus/pci/devices/BDF/numa_node ("DDDD:BB:DD.F").
 * 0 and the node os id, -1 when the platform does not say; -ENOENT for a
 * device the host does not have. */
int np_linux_pci_device_node(np_linux_ctx *ctx, const char *bdf, int32_t *node_out);
/* Every PCI device under sys/bus/pci/devices with a node, as
 * "DDDD:BB:DD.F" and node os id, sorted by address; none (0) when the
 * directory is absent. Free *bdfs_out and *nodes_out with free(). */
int np_linux_pci_devices(np_linux_ctx *ctx, char (**bdfs_out)[NP_BDF_TEXT_MAX],
                         int32_t **nodes_out, size_t *n_out);

typedef struct np_linux_node_meminfo {
    uint64_t total_bytes;          /* MemTotal */
    uint64_t free_bytes;           /* MemFree */
    uint64_t inactive_file_bytes;  /* Inactive(file): reclaimable page cache */
} np_linux_node_meminfo;

/* nodeN/meminfo. -EINVAL (last_error set) when MemTotal/MemFree missing. */
int np_linux_node_meminfo_read(np_linux_ctx *ctx, unsigned node_os_id,
                               np_linux_node_meminfo *out);
/* The parser alone: "Node N MemFree:  123 kB" lines for node_os_id. */
int np_linux_node_meminfo_parse(const char *text, size_t len, unsigned node_os_id,
                                const char *origin, np_linux_node_meminfo *out, np_error *err);

/* A node's pool of hugetlb pages of one size
 * (nodeN/hugepages/hugepages-<size>kB/{nr,free,surplus}_hugepages). A
 * hugetlb page migrates only into a free page of the target node's pool of
 * its size (the kernel allocates a surplus page instead only when
 * /proc/sys/vm/nr_overcommit_hugepages allows, which is 0 by default). */
typedef struct np_linux_hugepool {
    uint64_t page_bytes;
    uint64_t nr_pages;       /* nr_hugepages: the pool's size */
    uint64_t free_pages;     /* free_hugepages: room for migrations */
    uint64_t surplus_pages;  /* surplus_hugepages */
} np_linux_hugepool;

/* Reads one pool. -ENOENT when the node has no pool of that size (the
 * kernel does not support the size, or the node does not exist). */
int np_linux_node_hugepool_read(np_linux_ctx *ctx, unsigned node_os_id, uint64_t page_bytes,
                                np_linux_hugepool *out);

/* ---- KSM ------------------------------------------------------------- */

typedef struct np_linux_ksm {
    bool present;              /* sys/kernel/mm/ksm exists */
    int run;                   /* 0 stopped, 1 running, 2 unmerge all */
    int merge_across_nodes;    /* 1 merges pages of different nodes (default) */
    uint64_t pages_shared;     /* shared KSM pages; non-zero blocks the change */
    uint64_t pages_sharing;    /* how many more sites share them */
} np_linux_ksm;

int np_linux_ksm_read(np_linux_ctx *ctx, np_linux_ksm *out);
/* Sets merge_across_nodes. The kernel only lets it change while no pages
 * are shared: with pages_shared > 0 this writes nothing, logs the note
 * below as a warning and returns -EBUSY (so does a kernel EBUSY). */
int np_linux_ksm_set_merge_across_nodes(np_linux_ctx *ctx, bool merge);
/* What changing merge_across_nodes needs, for logs and --help. */
const char *np_linux_ksm_merge_note(void);

/* ---- processes, guests, threads -------------------------------------- */

/* What runs a process, as far as /proc shows it. */
typedef enum np_linux_proc_kind {
    NP_LINUX_PROC_OTHER = 0,    /* not QEMU */
    NP_LINUX_PROC_QEMU,         /* QEMU started by hand or a script */
    NP_LINUX_PROC_QEMU_LIBVIRT, /* QEMU started by libvirt (-name guest=, machine cgroup) */
} np_linux_proc_kind;

typedef struct np_linux_proc {
    pid_t pid;
    char comm[16];             /* /proc/PID/comm (the kernel keeps 15 bytes) */
    np_linux_proc_kind kind;
    char *guest_name;          /* QEMU -name value, NULL when absent */
    char *cgroup;              /* cgroup v2 path ("/machine.slice/..."), NULL if none */
    uint64_t start_ticks;      /* /proc/PID/stat field 22: with the PID, which
                                  process this is (a reused PID starts later) */
    size_t nr_devices;         /* PCI devices passed through (vfio-pci) */
    char devices[NP_GUEST_MAX_DEVICES][NP_BDF_TEXT_MAX]; /* "DDDD:BB:DD.F" */
} np_linux_proc;

void np_linux_proc_fini(np_linux_proc *p);
void np_linux_procs_free(np_linux_proc *procs, size_t n);
/* Describes any PID (the user may name one): -ESRCH when it is gone. */
int np_linux_proc_describe(np_linux_ctx *ctx, pid_t pid, np_linux_proc *out);
/* Every QEMU process under proc/, sorted by PID. Processes that vanish
 * during the scan are skipped. */
int np_linux_find_guests(np_linux_ctx *ctx, np_linux_proc **procs_out, size_t *n_out);
/* PIDs listed in <cgroup2 mount>/<cgroup>/cgroup.procs, sorted. `cgroup` is
 * an absolute cgroup path ("/machine.slice/x.scope"); ".." is refused. */
int np_linux_cgroup_procs(np_linux_ctx *ctx, const char *cgroup, pid_t **pids_out,
                          size_t *n_out);

typedef struct np_linux_thread {
    pid_t tid;
    char comm[16];
    int32_t vcpu;              /* N of a "CPU N/KVM" (or /TCG, ...) thread, else -1 */
    uint64_t cpu_time_ns;      /* utime + stime */
    int32_t last_cpu;          /* stat field 39: CPU it last ran on */
} np_linux_thread;

/* Threads of a process with their CPU time, sorted by TID. Threads that
 * exit during the scan are skipped; -ESRCH when the process is gone. */
int np_linux_threads(np_linux_ctx *ctx, pid_t pid, np_linux_thread **threads_out, size_t *n_out);

/* A guest's helper threads: what works for a QEMU process besides its
 * vCPUs (helper_threads.c). The emulator thread is the process's main
 * thread (TID = PID), I/O threads are named "IO <id>" (QEMU names its
 * iothread objects so), and vhost workers - the in-kernel back ends of
 * vhost-net/scsi/vsock queues - are named "vhost-<QEMU pid>": kernel
 * threads of their own up to Linux 6.3 (put in the QEMU thread's cgroups
 * by the kernel), threads of the QEMU process itself since 6.4 (vhost_task).
 * Other QEMU threads (RCU, worker pools) are "other". */
typedef enum np_linux_helper_kind {
    NP_LINUX_HELPER_EMULATOR = 0,
    NP_LINUX_HELPER_IO,
    NP_LINUX_HELPER_VHOST,
    NP_LINUX_HELPER_OTHER,
} np_linux_helper_kind;

#define NP_LINUX_HELPER_ALL 0xfu /* a mask of (1u << kind) */

typedef struct np_linux_helper {
    pid_t tid;
    np_linux_helper_kind kind;
    char comm[16];
} np_linux_helper;

const char *np_linux_helper_kind_name(np_linux_helper_kind kind);
/* The helper threads of QEMU process `pid` whose kind is in `kinds` (a mask
 * of 1u << kind): its non-vCPU threads and the vhost workers anywhere under
 * proc/ named for it. Sorted by TID; -ESRCH when the process is gone. */
int np_linux_helper_threads(np_linux_ctx *ctx, pid_t pid, unsigned kinds,
                            np_linux_helper **out, size_t *n_out);
/* Kernel vhost workers on the host: up to Linux 6.3 they are processes of
 * their own named "vhost-<QEMU pid>", found only by reading every
 * proc/N/comm. One scan serves every guest of a round: a caller asking for
 * many guests' helper threads scans once (np_linux_vhost_scan_host) and
 * passes the scan to np_linux_helper_threads_scanned. */
typedef struct np_linux_vhost_thread {
    pid_t tid;
    pid_t owner; /* the QEMU pid in its name */
    char comm[16];
} np_linux_vhost_thread;
typedef struct np_linux_vhost_scan {
    np_linux_vhost_thread *v;
    size_t n;
} np_linux_vhost_scan;
int np_linux_vhost_scan_host(np_linux_ctx *ctx, np_linux_vhost_scan *out);
void np_linux_vhost_scan_fini(np_linux_vhost_scan *scan);
/* np_linux_helper_threads with the kernel vhost workers taken from `scan`
 * (NULL: none looked for outside the process). */
int np_linux_helper_threads_scanned(np_linux_ctx *ctx, pid_t pid, unsigned kinds,
                                    const np_linux_vhost_scan *scan, np_linux_helper **out,
                                    size_t *n_out);
/* Sets the CPU affinity of those helper threads to `cpus` (live root).
 * *nr_set_out (may be NULL): how many took it. A thread that exits
 * meanwhile is skipped; the first other failure is returned after trying
 * every thread. */
int np_linux_helper_threads_pin(np_linux_ctx *ctx, pid_t pid, unsigned kinds,
                                const np_bitmap *cpus, size_t *nr_set_out);
/* The guest's threads follow its vCPUs: the union of the affinities of
 * `vcpu_tids` goes to every helper thread (NP_LINUX_HELPER_ALL). What the
 * Linux backend calls after steering a vCPU. */
int np_linux_helper_threads_follow(np_linux_ctx *ctx, pid_t pid, const pid_t *vcpu_tids,
                                   size_t nr_vcpus, size_t *nr_set_out);

/* Parsers, exposed for tests and fuzzing. */
typedef struct np_linux_task_stat {
    pid_t tid;
    char state;
    uint32_t flags;            /* field 9: PF_* (PF_EXITING 0x4 while dying) */
    uint64_t utime_ticks, stime_ticks;
    uint64_t start_ticks;      /* field 22: start time, clock ticks after boot */
    int32_t processor;
} np_linux_task_stat;
/* One /proc/PID/task/TID/stat line; comm may hold spaces and parentheses. */
int np_linux_task_stat_parse(const char *text, size_t len, const char *origin,
                             np_linux_task_stat *out, np_error *err);
/* QEMU's guest name from a NUL-separated /proc/PID/cmdline: the value of
 * -name (or --name), "guest=NAME,..." or "NAME,...", with ",," meaning ",".
 * Heap string in *name_out; -ENOENT when there is no -name. */
int np_linux_qemu_name_parse(const char *cmdline, size_t len, char **name_out);
/* The PCI devices a QEMU cmdline passes through: every -device (or
 * --device) whose driver is vfio-pci ("vfio-pci,host=..." or
 * "driver=vfio-pci,..."), its host= ("BB:DD.F" or "DDDD:BB:DD.F") or
 * sysfsdev= (".../DDDD:BB:DD.F") as "DDDD:BB:DD.F" in bdf_out, in cmdline
 * order, duplicates dropped, at most `max`. A vfio-pci device named
 * otherwise (a JSON -device, an fd) or with a malformed address is not
 * counted. 0 and *n_out (0 when none). */
int np_linux_qemu_devices_parse(const char *cmdline, size_t len,
                                char (*bdf_out)[NP_BDF_TEXT_MAX], size_t max, size_t *n_out);
/* vCPU index from a thread comm "CPU 3/KVM": 0 and *vcpu_out, or -EINVAL. */
int np_linux_vcpu_from_comm(const char *comm, int32_t *vcpu_out);

/* ---- memory per node ------------------------------------------------- */

#define NP_LINUX_HUGE_SIZES_MAX 4

/* Where a process's memory is, by node os_id. Arrays have nr_node_slots
 * entries (highest node seen + 1); free with np_linux_mem_fini. */
typedef struct np_linux_mem {
    size_t nr_node_slots;
    uint64_t *bytes_by_node_os_id;       /* resident bytes per node, all mappings */
    uint64_t *anon_bytes_by_node_os_id;  /* of which in mappings without a file */
    uint64_t total_bytes;
    uint64_t huge_bytes;                 /* hugetlbfs pages, all nodes */
    /* hugetlbfs pages by page size (numa_maps and numa_stat methods): slot i holds pages
     * of huge_page_bytes[i] bytes (0: unused), their bytes on node os id
     * n at huge_by_node_os_id[n * NP_LINUX_HUGE_SIZES_MAX + i]; sizes
     * beyond the slots count in huge_bytes only */
    uint64_t huge_page_bytes[NP_LINUX_HUGE_SIZES_MAX];
    uint64_t *huge_by_node_os_id;
    uint64_t mappings;                   /* mappings looked at */
    uint64_t pages_queried;              /* query method: page addresses asked */
    uint64_t pages_absent;               /* query method: not present (-ENOENT)
                                            or the zero page (-EFAULT) */
    uint64_t pages_error;                /* query method: other negative status */
    /* numa_stat method: the cgroup has no hugetlb.<size>.numa_stat at all
     * (hugetlb controller not enabled for it, or Linux < 5.16), so its
     * hugetlb pages, if any, are not counted. */
    bool huge_not_sensed;
} np_linux_mem;

void np_linux_mem_fini(np_linux_mem *mem);

/* Which mappings of /proc/PID/maps a query or a move walks. */
typedef enum np_linux_map_filter {
    /* Private mappings without a file: heap, stack, anonymous mmap (QEMU's
     * default guest RAM, memory-backend-ram). */
    NP_LINUX_MAPS_ANON = 0,
    /* Plus writable file and shared mappings (memfd, /dev/shm, hugetlbfs
     * guest RAM: memory-backend-memfd/file). */
    NP_LINUX_MAPS_WRITABLE,
    /* Every readable mapping, as numa_maps counts (for sensing). */
    NP_LINUX_MAPS_ALL,
} np_linux_map_filter;

/* Method 1: parse /proc/PID/numa_maps. -ESRCH when the process is gone. */
int np_linux_mem_numa_maps(np_linux_ctx *ctx, pid_t pid, np_linux_mem *out);
/* The numa_maps parser alone (fills out only on success). */
int np_linux_numa_maps_parse(const char *text, size_t len, const char *origin,
                             np_linux_mem *out, np_error *err);
/* Method 3, for a guest alone in its cgroup v2 (cgroup.procs lists only
 * pid): the cgroup's memory.numa_stat (anon and shmem: QEMU's anonymous and
 * memfd guest RAM) and hugetlb.<size>.numa_stat for 2MB, 1GB, 16MB and 16GB
 * (huge pages in use, counted also in huge_bytes and by size and node in
 * the huge slots; huge_not_sensed when none of these files exists: Linux
 * >= 5.16 with the hugetlb controller enabled has them, Debian 12's 6.1
 * does). The kernel keeps these counters per node, so the
 * read costs the same for a 1 GiB and a 1 TiB guest; numa_maps walks every
 * page table. Page cache the cgroup holds (a disk image read through the
 * host's cache) is not guest memory and is left out. -ENOENT when the
 * cgroup has no memory.numa_stat (memory controller not enabled). */
int np_linux_mem_cgroup_numa_stat(np_linux_ctx *ctx, const char *cgroup, np_linux_mem *out);
/* The parser of one numa_stat file: lines "<key> N<id>=<bytes> ..." (or,
 * in hugetlb files, "<key>=<bytes> N<id>=<bytes> ..."); the bytes of lines
 * whose key is anon or shmem (memory.numa_stat, huge_page_bytes 0) or total
 * (hugetlb.<size>.numa_stat, huge_page_bytes its page size: also added to
 * huge_bytes and, per node, to the slot of that size; a size beyond the
 * NP_LINUX_HUGE_SIZES_MAX slots counts in huge_bytes only) are added to out,
 * anon also to the anon counts. Other keys are skipped (the kernel adds
 * keys over time). Bad input: -EINVAL with the line in err, out unchanged. */
int np_linux_numa_stat_parse(const char *text, size_t len, const char *origin,
                             uint64_t huge_page_bytes, np_linux_mem *out, np_error *err);
/* Method 2: ask move_pages(2) where each page of the chosen mappings is,
 * NP_LINUX_QUERY_BATCH_PAGES at a time (live root only). */
int np_linux_mem_query(np_linux_ctx *ctx, pid_t pid, np_linux_map_filter filter,
                       np_linux_mem *out);

/* ---- acting ---------------------------------------------------------- */

/* sched_setaffinity / sched_getaffinity of one thread (live root only). */
int np_linux_thread_set_affinity(np_linux_ctx *ctx, pid_t tid, const np_bitmap *cpus);
int np_linux_thread_get_affinity(np_linux_ctx *ctx, pid_t tid, np_bitmap **cpus_out);
/* Writes cpuset.cpus and/or cpuset.mems (NULL = leave) of a cgroup v2
 * through the root. Writing cpuset.mems makes the kernel migrate the
 * tasks' memory before the write returns. */
int np_linux_cgroup_set_cpuset(np_linux_ctx *ctx, const char *cgroup, const np_bitmap *cpus,
                               const np_bitmap *mems);
/* A cgroup's cpuset.cpus (its own request; empty = the parent's set) or,
 * with `effective`, cpuset.cpus.effective (what its threads may use). */
int np_linux_cgroup_cpus(np_linux_ctx *ctx, const char *cgroup, bool effective,
                         np_bitmap **cpus_out);
/* Makes cpus usable by the cgroup's threads before they are steered there:
 * when cpuset.cpus.effective lacks some of them, writes cpuset.cpus = its
 * own set (or, when empty, the effective set) plus cpus. Never removes a
 * CPU; *written_out says whether it wrote. Logs a warning when the parent's
 * effective set lacks some of cpus (this does not write above the cgroup).
 * -EINVAL for the root cgroup "/". */
int np_linux_cgroup_widen_cpus(np_linux_ctx *ctx, const char *cgroup, const np_bitmap *cpus,
                               bool *written_out);
/* The cgroup v2 path of one thread (proc/PID/task/TID/cgroup): libvirt
 * puts each vCPU thread in its own cgroup (.../libvirt/vcpuN). Heap string;
 * -ENOENT when the file has no v2 line, -ESRCH when the process is gone. */
int np_linux_thread_cgroup(np_linux_ctx *ctx, pid_t pid, pid_t tid, char **cgroup_out);
/* Whether this process may move pid's pages: a move_pages(2) call with no
 * pages, which makes the kernel's checks (the process exists and has
 * memory, ptrace read access, the security module) and nothing else.
 * 0, -ESRCH (no such process, or a zombie), -EPERM (another user's process
 * without CAP_SYS_NICE/ptrace rights), -EOPNOTSUPP on a fixture root. */
int np_linux_pid_check_move_access(np_linux_ctx *ctx, pid_t pid);
/* Whole-process migrate_pages(2) from `from` to `to` nodes: one call that
 * blocks until done. Use only when asked (see the chunked mover). The
 * kernel's count of pages it could not move goes to *pages_left_out. */
int np_linux_migrate_process(np_linux_ctx *ctx, pid_t pid, const np_bitmap *from,
                             const np_bitmap *to, uint64_t *pages_left_out);

/* ---- chunked, rate-limited migration ---------------------------------- */

typedef uint64_t (*np_linux_now_fn)(void *opaque);
typedef void (*np_linux_sleep_fn)(void *opaque, uint64_t ns);

/* Quiesced steps: moving a step while the process's threads do not run.
 *
 * Why: Linux before 6.3 unmaps each page it migrates with its own TLB
 * flush, an IPI to every CPU running the process; the sender waits for
 * each. On the TCG test guest (Linux 6.1, 8 vCPUs on 2 host cores) a
 * process whose 2 threads wrote its 64 MiB moved at 57-67 pages/s (one
 * 512-page call took 8 s); the same process stopped (SIGSTOP) moved at
 * 10,170-12,501 pages/s and with sleeping threads at 14,421 pages/s
 * (tests/vm/prog/np-movecost.c, docs/results-linux.md). The kernel's own
 * NUMA-fault migration does not pay it: its PTEs are PROT_NONE, not
 * accessible, so no flush.
 *
 * The mover does not stop anything itself: the caller's quiesce function
 * does (the daemon's records what it stopped with a guardian process that
 * resumes it if the daemon dies; src/daemon/quiesce.c). */
typedef enum np_linux_quiesce_mode {
    NP_LINUX_QUIESCE_NEVER = 0, /* every move call runs beside the process */
    NP_LINUX_QUIESCE_AUTO,      /* quiesce when moving beside it is slow (below) */
    NP_LINUX_QUIESCE_ALWAYS,    /* quiesce every move call */
} np_linux_quiesce_mode;
/* stop: stop every thread of pid; 0 when stopped, negative errno when it
 * did not stop it (resume is then not called): -EAGAIN when it could not
 * stop it in time (the step then moves nothing and a later step tries the
 * same pages, up to NP_LINUX_QUIESCE_STOP_TRIES stops in a row; then one
 * moves beside it), any other error makes the step move beside the
 * running process (e.g. -EALREADY: someone else stopped it). !stop:
 * resume what the stop call stopped. */
typedef int (*np_linux_quiesce_fn)(void *opaque, pid_t pid, bool stop);
/* Longest a quiesced step's move calls may keep a process stopped: pages
 * per quiesced step are sized from the measured stopped time per page so
 * that they stay under this (at least one page moves); the time the stop
 * signal takes to reach every thread comes on top. 50 ms: a guest sees it as a
 * scheduling hiccup, far below the write stalls of seconds that moving
 * beside it caused on the test guest (docs/results-linux.md). */
#define NP_LINUX_QUIESCE_MAX_NS 50000000ull
/* Least running time between two stops of one process: it runs at least
 * half the time while its memory moves. */
#define NP_LINUX_QUIESCE_GAP_NS 50000000ull
/* Auto quiesces when moving beside the running process costs more than
 * this per base page. 1 ms: on the TCG test guest a stopped or sleeping
 * process's pages moved in 70-100 us each, a writing one's in 15-17 ms;
 * on hardware a page's move costs microseconds whether or not the process
 * runs, so auto never quiesces there unless the flushes really hurt. */
#define NP_LINUX_QUIESCE_AUTO_NS_PER_PAGE 1000000ull
/* Auto's probe: the pages its first unquiesced move call takes (small, as
 * it may cost 17 ms each), and how many quiesced steps run before it
 * probes again (the process may have gone idle meanwhile). */
#define NP_LINUX_QUIESCE_PROBE_PAGES 16u
#define NP_LINUX_QUIESCE_REPROBE_STEPS 256u
/* Stops in a row that may fail with -EAGAIN before a step moves beside
 * the running process anyway (so a process that never stops still moves). */
#define NP_LINUX_QUIESCE_STOP_TRIES 8u
/* Fewest base pages a quiesced step takes after its first, until the
 * stopped cost is fitted (NP_LINUX_QUIESCE_FIT_SAMPLES). Why a floor: in
 * the unpinned VM test (two other guests writing, host at load 13) a
 * quiesced move call cost up to 2.25 s even for one page, so sizing on time
 * per page shrank steps to one page and the mover to 202 pages in 120 s
 * (docs/results-linux.md); the fit of fixed + per page cost now sizes
 * steps, this floor only gives it a second size to fit on.
 * 512, as NP_LINUX_MOVE_MIN_BATCH_PAGES: at the 70-100 us a stopped page
 * cost on TCG it still fits NP_LINUX_QUIESCE_MAX_NS. */
#define NP_LINUX_QUIESCE_MIN_PAGES 512u
/* Base pages of the first quiesced step, before any is measured; also
 * the fewest a quiesced step takes once its cost is fitted. */
#define NP_LINUX_QUIESCE_FIRST_PAGES 64u
/* Quiesced steps the stopped cost is fitted on (fixed per call + per page,
 * least squares): enough to see two sizes, few enough to follow a guest
 * whose neighbours start or stop writing. */
#define NP_LINUX_QUIESCE_FIT_SAMPLES 8u
/* Longest a quiesced step may keep a process stopped when a move call's
 * fixed cost alone takes an eighth of quiesce_max_ns: steps then grow so
 * that the fixed cost is at most an eighth of the stop, up to 3/4 of this.
 * 1 s: in the unpinned VM test a stopped call cost 138 ms fixed + 0.46 ms a
 * page (docs/results-linux.md), so 50 ms steps would move nothing, and the
 * kernel's own balancing stalled writers there for 2.2 s. */
#define NP_LINUX_QUIESCE_STRETCH_NS 1000000000ull

typedef struct np_linux_move_opts {
    np_linux_now_fn now_ns;          /* required: times batches */
    np_linux_sleep_fn sleep_ns;      /* used by np_linux_mover_run only */
    void *clock_opaque;
    uint32_t batch_pages;            /* 0 = NP_LINUX_MOVE_BATCH_PAGES; the cap of
                                        a batch is batch_pages base pages of bytes
                                        (16 MiB), never less than one page of the
                                        mapping (a 1 GiB hugetlb page moves alone) */
    uint64_t target_batch_ns;        /* 0 = NP_LINUX_MOVE_TARGET_BATCH_NS; halve above */
    uint32_t min_batch_pages;        /* 0 = NP_LINUX_MOVE_MIN_BATCH_PAGES; halving floor */
    uint64_t budget_bytes_per_s;     /* 0 = no rate limit */
    uint64_t max_bytes;              /* stop after moving this much; 0 = all. A
                                        step stops before the page that would
                                        reach it, so it overshoots by less than
                                        one page (a huge page counts whole) */
    np_linux_map_filter filter;      /* default NP_LINUX_MAPS_ANON */
    bool move_all;                   /* MPOL_MF_MOVE_ALL: also pages shared with
                                        other processes (needs CAP_SYS_NICE) */
    /* Quiesced steps (above); a mode other than NEVER needs quiesce_fn. */
    np_linux_quiesce_mode quiesce;
    np_linux_quiesce_fn quiesce_fn;
    void *quiesce_opaque;
    uint64_t quiesce_max_ns;         /* 0 = NP_LINUX_QUIESCE_MAX_NS */
    uint64_t quiesce_gap_ns;         /* 0 = NP_LINUX_QUIESCE_GAP_NS */
    /* np_linux_mover_run asks before each step and returns 0 early when it
     * says true (a daemon stopping: one batch, not a whole step, is then
     * the longest it waits). NULL: never. */
    bool (*should_stop)(void *opaque);
    void *should_stop_opaque;
} np_linux_move_opts;

typedef struct np_linux_move_stats {
    uint64_t pages_queried;          /* page (head) addresses whose node was asked;
                                        a hugetlb page is one address */
    uint64_t pages_absent;           /* not present (never touched, swapped)
                                        or the zero page */
    uint64_t pages_on_source;        /* found on a source node: tried to move */
    uint64_t pages_moved;            /* now on the target node (by a query after
                                        the move, not by the move's status) */
    uint64_t pages_failed;           /* sum of the four below, after retries */
    uint64_t pages_busy;             /* -EBUSY/-EAGAIN: locked, under IO or being
                                        written, pinned; retried first */
    uint64_t pages_nomem;            /* -ENOMEM: target node full */
    uint64_t pages_fault;            /* -EFAULT / -EACCES (shared, needs move_all) */
    uint64_t pages_other;            /* other error, or landed on another node */
    uint64_t bytes_moved;            /* real bytes: each page by its size */
    uint64_t batches;                /* move_pages query+move rounds */
    uint64_t longest_batch_ns;       /* longest single query+move round */
    uint64_t busy_ns;                /* time spent inside batches */
    uint32_t batch_pages_now;        /* current (adapted) batch size */
    /* Added with page sizes (zero-initialised by older callers): */
    uint64_t huge_pages_moved;       /* hugetlb pages among pages_moved */
    uint64_t pages_retried;          /* moves tried again after -EBUSY/-EAGAIN
                                        or a call that stopped early */
    uint64_t longest_step_bytes;     /* most bytes one step moved */
    /* Quiesced steps: how many, and the longest time one kept the
     * process stopped (stop call to resume call returned). */
    uint64_t quiesced_steps;
    uint64_t longest_stop_ns;
    /* Over all quiesced steps: time the process was stopped (as above),
     * time inside their move calls, and time from the stop call until the
     * process was stopped (the stop's own cost, which moves nothing). */
    uint64_t stopped_ns_total;
    uint64_t quiet_move_ns_total;
    uint64_t stop_wait_ns_total;
    uint64_t live_ns_per_page;       /* last measured unquiesced cost, 0 unknown */
    uint64_t quiet_fixed_ns;         /* fitted stopped cost per move call, and */
    uint64_t quiet_ns_per_page;      /* per base page (0 unknown; mover.c) */
} np_linux_move_stats;

typedef struct np_linux_mover np_linux_mover;

/* Tries of one page before it counts as failed: a page the kernel reports
 * busy (-EBUSY, -EAGAIN: locked, being written or under IO - the kernel
 * has already retried it 10 times inside the call) or did not move (a call
 * that stopped early leaves later status entries unwritten) is tried again
 * in later steps, up to this many times in all. Why 64: in the 2-node TCG
 * guest a memfd hugetlb page under two writing threads moved on about one
 * try in 15 (docs/linux.md); 64 tries leave about one page in 80 behind. */
#define NP_LINUX_MOVE_TRIES 64u
/* Least time between a step that left pages to retry and the next step,
 * per try already made (a linear backoff: the writer that made the page
 * busy moves on), up to NP_LINUX_MOVE_RETRY_DELAY_MAX_NS. */
#define NP_LINUX_MOVE_RETRY_DELAY_NS 20000000ull
#define NP_LINUX_MOVE_RETRY_DELAY_MAX_NS 200000000ull

/* A mover belongs to one thread at a time: create it on one, step it on
 * another (the daemon's worker), never two at once. It keeps no global
 * state; from its context it uses the root fd (openat), the system-call
 * table and the log callback (which must then be thread-safe), and never
 * writes the context's last_error after creation. */

/* Prepares moving pid's pages that sit on a node of `from` (NULL = any node
 * but the target) to node `to`: reads /proc/PID/maps once. -ESRCH when the
 * process is gone, -EINVAL for bad options. */
int np_linux_mover_create(np_linux_ctx *ctx, pid_t pid, const np_bitmap *from, unsigned to,
                          const np_linux_move_opts *opts, np_linux_mover **out);
void np_linux_mover_destroy(np_linux_mover *mv);
/* One batch: query up to batch_pages page addresses (one per page of its
 * mapping's size: hugetlb pages by their head), move those on a source
 * node, query them again and count what really reached the target, by
 * each page's size. Before moving hugetlb pages it reads the target's
 * free huge pages of that size and moves no more than fit: when none fit
 * it returns -ENOSPC (logged with the pool's path; nothing done, the walk
 * does not advance, so a later step retries). Returns 0 with *done_out (nothing left, or max_bytes
 * reached) and *next_at_ns_out (the earliest time the rate budget allows the
 * next batch; compare with opts.now_ns). -EAGAIN (nothing done) when called
 * before that time; -ESRCH when the process exited (the mover is then done:
 * a daemon logs it and carries on); other negative errno on failure. */
int np_linux_mover_step(np_linux_mover *mv, bool *done_out, uint64_t *next_at_ns_out);
/* Goes on after a mover stopped at its max_bytes: the next steps continue
 * the walk where it stopped (no address is looked at twice, the maps are
 * not read again, pacing and batch size carry over) and move up to
 * max_bytes more (0 = to the end). -ENODATA when the walk has ended (every
 * address looked at once, or the process exited): create a new mover to
 * look at the address space again. */
int np_linux_mover_continue(np_linux_mover *mv, uint64_t max_bytes);
/* Steps and sleeps (opts.sleep_ns) until done. 0, -ESRCH, or an error. */
int np_linux_mover_run(np_linux_mover *mv);
const np_linux_move_stats *np_linux_mover_stats(const np_linux_mover *mv);

/* The pacing rule, pure: a batch that started at start_ns and moved `bytes`
 * lets the next one start at max(prev_next_ns, start_ns) + bytes / budget.
 * No credit is saved while idle, so there are never bursts. budget 0 = no
 * limit (returns start_ns). */
uint64_t np_linux_pace_next_ns(uint64_t budget_bytes_per_s, uint64_t prev_next_ns,
                               uint64_t start_ns, uint64_t bytes);

/* Convenience: create, run, copy the stats, destroy. */
int np_linux_move_pages_chunked(np_linux_ctx *ctx, pid_t pid, const np_bitmap *from, unsigned to,
                                const np_linux_move_opts *opts, np_linux_move_stats *stats_out);

/* ---- benchmark (for `numaplace bench`) -------------------------------- */

typedef struct np_linux_bench_sense {
    unsigned reps;
    uint64_t numa_maps_ns;        /* median time of one numa_maps read+parse */
    uint64_t query_ns;            /* median time of one move_pages query walk */
    uint64_t numa_maps_min_ns, numa_maps_max_ns; /* spread of the rounds */
    uint64_t query_min_ns, query_max_ns;
    uint64_t numa_maps_bytes;     /* resident bytes each method found */
    uint64_t query_bytes;
    uint64_t query_pages;         /* page addresses asked per walk */
} np_linux_bench_sense;

/* Sensing cost per process: `reps` rounds of each method on pid (numa_maps
 * then the query of every readable mapping, NP_LINUX_MAPS_ALL, alternating),
 * medians and spread. The bytes are those of the last round. */
int np_linux_bench_sense_run(np_linux_ctx *ctx, pid_t pid, unsigned reps, np_linux_now_fn now,
                             void *clock_opaque, np_linux_bench_sense *out);

typedef struct np_linux_bench_move {
    uint64_t chunked_bytes;       /* moved from -> to by the chunked mover */
    uint64_t chunked_ns;
    uint64_t chunked_longest_batch_ns;
    uint64_t chunked_batches;
    uint64_t migrate_bytes;       /* moved back to -> from by migrate_pages */
    uint64_t migrate_ns;          /* one call: also its longest stall */
} np_linux_bench_move;

/* Moves pid's anonymous memory from node `from` to `to` with the chunked
 * mover (no rate limit), then back with one migrate_pages(2); bytes are
 * counted by move_pages queries before and after each. */
int np_linux_bench_move_run(np_linux_ctx *ctx, pid_t pid, unsigned from, unsigned to,
                            np_linux_now_fn now, void *clock_opaque, np_linux_bench_move *out);

#ifdef __cplusplus
}
#endif
#endif /* NUMAPLACE_LINUX_H */
