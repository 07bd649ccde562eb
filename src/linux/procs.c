/*
 * linux/procs.c - finding guests and their vCPU threads in /proc.
 *
 * A QEMU guest is a process whose comm is "qemu-system-<arch>" (truncated
 * by the kernel to 15 bytes: "qemu-system-x86") or "qemu-kvm" (RHEL's
 * name), or whose argv[0] says so. Its name is the -name option: libvirt
 * writes "-name guest=NAME,debug-threads=on", people write "-name NAME".
 * libvirt's guests also live in a machine cgroup ("/machine.slice/
 * machine-qemu\x2d1\x2dNAME.scope/libvirt/emulator" under systemd, or
 * "/machine/NAME.libvirt-qemu" without). vCPU threads are the ones QEMU
 * names "CPU N/KVM" ("CPU N/TCG" under TCG); that naming needs
 * debug-threads=on, which libvirt always sets - without it every thread
 * is called like the process and vcpu stays -1.
 */
#include "linux/linux_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/error.h"

#define SUBSYS "linux/proc"

/* Fallback for sysconf(_SC_CLK_TCK): USER_HZ is 100 on every architecture
 * Linux exports /proc/PID/stat ticks for. */
#define NP_LINUX_USER_HZ 100

void np_linux_proc_fini(np_linux_proc *p)
{
    if (!p)
        return;
    free(p->guest_name);
    free(p->cgroup);
    memset(p, 0, sizeof(*p));
}

void np_linux_procs_free(np_linux_proc *procs, size_t n)
{
    if (!procs)
        return;
    for (size_t i = 0; i < n; i++)
        np_linux_proc_fini(&procs[i]);
    free(procs);
}

/* Longest comm read: 15 bytes for ordinary tasks, but kernel workers show
 * "kworker/u8:0-events_unbound" (up to 63). */
#define NP_LINUX_COMM_READ_MAX 64

/* Reads a comm file (proc/PID/comm, proc/PID/task/TID/comm) into buf of 16
 * bytes, cut to 15 bytes as the kernel keeps them. */
static int read_comm(np_linux_ctx *ctx, pid_t pid, const char *file, char buf[16])
{
    char path[96], line[NP_LINUX_COMM_READ_MAX + 2];
    int rc = np_linux_path(path, sizeof(path), "proc/%d/%s", (int)pid, file);
    if (rc < 0)
        return rc;
    rc = np_linux_read_line_at(ctx, path, line, sizeof(line));
    if (rc == -ENOENT)
        return -ESRCH;
    if (rc < 0)
        return rc;
    size_t n = strnlen(line, 15);
    memcpy(buf, line, n);
    buf[n] = '\0';
    return 0;
}

static bool is_qemu_name(const char *name, size_t len)
{
    return (len >= 12 && memcmp(name, "qemu-system-", 12) == 0) ||
           (len >= 8 && memcmp(name, "qemu-kvm", 8) == 0);
}

int np_linux_cgroup_of(const char *text, size_t len, char **out)
{
    const char *p = text, *end = text + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        if (le - p >= 3 && memcmp(p, "0::", 3) == 0) {
            size_t n = (size_t)(le - p - 3);
            char *s = malloc(n + 1);
            if (!s)
                return -ENOMEM;
            memcpy(s, p + 3, n);
            s[n] = '\0';
            *out = s;
            return 0;
        }
        p = nl ? nl + 1 : end;
    }
    *out = NULL;
    return 0;
}

static bool libvirt_cgroup(const char *cg)
{
    return cg && (strstr(cg, "/machine.slice/") || strncmp(cg, "/machine/", 9) == 0 ||
                  strstr(cg, "machine-qemu"));
}

int np_linux_proc_describe(np_linux_ctx *ctx, pid_t pid, np_linux_proc *out)
{
    np_linux_proc p = {0};
    char *cmdline = NULL, *cgtext = NULL;
    size_t cmdlen = 0, cglen = 0;
    int rc;

    if (!ctx || !out || pid <= 0)
        return -EINVAL;
    p.pid = pid;
    rc = read_comm(ctx, pid, "comm", p.comm);
    if (rc < 0)
        goto out;
    {
        /* The start time: with the PID, the process's identity. A stat
         * that cannot be read or parsed (a fixture without one) leaves it
         * 0; a process gone meanwhile is found by the reads below. */
        char *stat = NULL;
        size_t statlen = 0;
        np_linux_task_stat ts;
        if (np_linux_read_pid(ctx, pid, "stat", &stat, &statlen) == 0 &&
            np_linux_task_stat_parse(stat, statlen, "stat", &ts, NULL) == 0)
            p.start_ticks = ts.start_ticks;
        free(stat);
    }
    rc = np_linux_read_pid(ctx, pid, "cmdline", &cmdline, &cmdlen);
    if (rc < 0)
        goto out;
    size_t argv0_len = strnlen(cmdline, cmdlen);
    const char *slash = memrchr(cmdline, '/', argv0_len);
    const char *base = slash ? slash + 1 : cmdline;
    bool qemu = is_qemu_name(p.comm, strlen(p.comm)) ||
                is_qemu_name(base, argv0_len - (size_t)(base - cmdline));

    rc = np_linux_read_pid(ctx, pid, "cgroup", &cgtext, &cglen);
    if (rc == 0)
        rc = np_linux_cgroup_of(cgtext, cglen, &p.cgroup);
    else if (rc != -ESRCH)
        rc = 0; /* no cgroup file (kernel without cgroups): not an error */
    if (rc < 0)
        goto out;

    if (qemu) {
        rc = np_linux_qemu_name_parse(cmdline, cmdlen, &p.guest_name);
        if (rc == -ENOENT || rc == -EINVAL)
            rc = 0; /* unnamed guest: the caller names it by PID */
        if (rc < 0)
            goto out;
        static const char libvirt_name[] = "\0-name\0guest=";
        bool guest_key = memmem(cmdline, cmdlen, libvirt_name, sizeof(libvirt_name) - 1) != NULL;
        p.kind = (guest_key || libvirt_cgroup(p.cgroup)) ? NP_LINUX_PROC_QEMU_LIBVIRT
                                                          : NP_LINUX_PROC_QEMU;
        rc = np_linux_qemu_devices_parse(cmdline, cmdlen, p.devices, NP_GUEST_MAX_DEVICES,
                                         &p.nr_devices);
        if (rc < 0)
            goto out;
    }
    np_linux_proc_fini(out);
    *out = p;
    memset(&p, 0, sizeof(p));
out:
    np_linux_proc_fini(&p);
    free(cmdline);
    free(cgtext);
    return rc;
}

/* Reads the numeric entries of a directory under the root (proc/ or
 * proc/PID/task/), sorted. */
int np_linux_list_numeric_dir(np_linux_ctx *ctx, const char *path, pid_t **ids_out, size_t *n_out)
{
    int fd = -1, rc = 0;
    DIR *d = NULL;
    pid_t *ids = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;

    fd = openat(ctx->root_fd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        rc = -errno;
        goto out;
    }
    d = fdopendir(fd);
    if (!d) {
        rc = -errno;
        goto out;
    }
    fd = -1; /* owned by d now */
    errno = 0;
    while ((e = readdir(d)) != NULL) {
        const char *s = e->d_name;
        uint64_t v = 0;
        if (!*s)
            continue;
        for (; *s >= '0' && *s <= '9' && v <= INT32_MAX; s++)
            v = v * 10 + (uint64_t)(*s - '0');
        if (*s || v == 0 || v > INT32_MAX)
            continue;
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 256;
            pid_t *ni = realloc(ids, ncap * sizeof(*ni));
            if (!ni) {
                rc = -ENOMEM;
                goto out;
            }
            ids = ni;
            cap = ncap;
        }
        ids[n++] = (pid_t)v;
    }
    /* Insertion sort is enough for thread lists; /proc lists are already
     * mostly ordered, so this stays near-linear there too. */
    for (size_t i = 1; i < n; i++) {
        pid_t v = ids[i];
        size_t j = i;
        while (j > 0 && ids[j - 1] > v) {
            ids[j] = ids[j - 1];
            j--;
        }
        ids[j] = v;
    }
    *ids_out = ids;
    *n_out = n;
    ids = NULL;
out:
    if (d)
        closedir(d);
    if (fd >= 0)
        close(fd);
    free(ids);
    return rc;
}

int np_linux_find_guests(np_linux_ctx *ctx, np_linux_proc **procs_out, size_t *n_out)
{
    pid_t *pids = NULL;
    size_t npids = 0, n = 0;
    np_linux_proc *procs = NULL;
    int rc;

    if (!ctx || !procs_out || !n_out)
        return -EINVAL;
    rc = np_linux_list_numeric_dir(ctx, "proc", &pids, &npids);
    if (rc < 0)
        goto out;
    procs = calloc(npids ? npids : 1, sizeof(*procs));
    if (!procs) {
        rc = -ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < npids; i++) {
        np_linux_proc p = {0};
        rc = np_linux_proc_describe(ctx, pids[i], &p);
        if (rc == -ENOMEM)
            goto out;
        if (rc < 0) {
            /* Gone, not ours to read, or garbage: not a guest we can manage. */
            if (rc != -ESRCH)
                np_linux_log(ctx, NP_LOG_DEBUG, SUBSYS, "skipping pid %d: %s", (int)pids[i],
                             np_strerror(rc));
            rc = 0;
            continue;
        }
        if (p.kind == NP_LINUX_PROC_OTHER) {
            np_linux_proc_fini(&p);
            continue;
        }
        procs[n++] = p;
    }
    *procs_out = procs;
    *n_out = n;
    procs = NULL;
    n = 0;
out:
    np_linux_procs_free(procs, n);
    free(pids);
    return rc;
}

int np_linux_threads(np_linux_ctx *ctx, pid_t pid, np_linux_thread **threads_out, size_t *n_out)
{
    pid_t *tids = NULL;
    size_t ntids = 0, n = 0;
    np_linux_thread *th = NULL;
    char path[96];
    int rc;

    if (!ctx || !threads_out || !n_out || pid <= 0)
        return -EINVAL;
    long hz = sysconf(_SC_CLK_TCK);
    uint64_t ns_per_tick = 1000000000ull / (uint64_t)(hz > 0 ? hz : NP_LINUX_USER_HZ);

    rc = np_linux_path(path, sizeof(path), "proc/%d/task", (int)pid);
    if (rc < 0)
        return rc;
    rc = np_linux_list_numeric_dir(ctx, path, &tids, &ntids);
    if (rc == -ENOENT)
        rc = -ESRCH;
    if (rc < 0)
        goto out;
    th = calloc(ntids ? ntids : 1, sizeof(*th));
    if (!th) {
        rc = -ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < ntids; i++) {
        char file[96], *text = NULL;
        size_t len = 0;
        np_linux_thread t = {.tid = tids[i], .vcpu = -1};
        np_linux_task_stat st;
        np_error err = {0};

        rc = np_linux_path(file, sizeof(file), "task/%d/comm", (int)tids[i]);
        if (rc == 0)
            rc = read_comm(ctx, pid, file, t.comm);
        if (rc == -EINVAL) {
            /* prctl(PR_SET_NAME) accepts any bytes, newlines included. */
            t.comm[0] = '\0';
            rc = 0;
        }
        if (rc == 0)
            rc = np_linux_path(file, sizeof(file), "task/%d/stat", (int)tids[i]);
        if (rc == 0)
            rc = np_linux_read_pid(ctx, pid, file, &text, &len);
        if (rc == -ESRCH) {
            rc = 0; /* the thread exited meanwhile */
            continue;
        }
        if (rc < 0)
            goto out;
        char origin[128];
        np_linux_path(origin, sizeof(origin), "proc/%d/%s", (int)pid, file);
        rc = np_linux_task_stat_parse(text, len, origin, &st, &err);
        free(text);
        if (rc < 0) {
            rc = np_linux_parse_failed(ctx, SUBSYS, &err);
            goto out;
        }
        t.cpu_time_ns = (st.utime_ticks + st.stime_ticks) * ns_per_tick;
        t.last_cpu = st.processor;
        if (np_linux_vcpu_from_comm(t.comm, &t.vcpu) < 0)
            t.vcpu = -1;
        th[n++] = t;
    }
    if (n == 0 && np_linux_pid_gone(ctx, pid)) {
        rc = -ESRCH;
        goto out;
    }
    *threads_out = th;
    *n_out = n;
    th = NULL;
out:
    free(th);
    free(tids);
    return rc;
}
