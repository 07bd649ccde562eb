/*
 * np-steer - steers or pins every thread of one process through the Linux
 * backend of libnumaplace, as numaplaced does, with use_cgroup_cpuset on:
 * for the VM test tests/vm/cgroup-cpuset.test.sh.
 *
 *   np-steer [-n] PID soft|hard CPULIST
 *
 * -n turns use_cgroup_cpuset off (the control: the kernel then refuses a
 * mask outside the cgroup's CPUs with EINVAL, rc=-22).
 * The backend lists the process (source: this PID; its "vCPUs" are its
 * threads), then calls set_vcpu_affinity for each with the CPU list as the
 * soft mask (steering) or the hard one (a whole-guest pin). Prints one line
 * "rc=N vcpus=N" and the layer's log on stderr (cgroup writes are logged at
 * info level). Exit status 0 when every call returned 0.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <numaplace/backend_linux.h>

static void log_stderr(void *opaque, np_log_level level, const char *subsys, const char *msg)
{
    (void)opaque;
    if (level <= NP_LOG_INFO)
        fprintf(stderr, "%d %s: %s\n", (int)level, subsys, msg);
}

int main(int argc, char **argv)
{
    np_linux_ctx *ctx = NULL;
    np_linux_backend *lb = NULL;
    np_backend_guest *gs = NULL;
    np_bitmap *cpus = NULL;
    size_t n = 0;
    int rc;

    bool use_cgroup = !(argc > 1 && strcmp(argv[1], "-n") == 0);
    if (!use_cgroup) {
        argc--;
        argv++;
    }
    if (argc != 4 || (strcmp(argv[2], "soft") != 0 && strcmp(argv[2], "hard") != 0)) {
        fprintf(stderr, "usage: np-steer [-n] PID soft|hard CPULIST\n");
        return 2;
    }
    pid_t pid = (pid_t)strtol(argv[1], NULL, 10);
    bool soft = strcmp(argv[2], "soft") == 0;
    if (pid <= 0 || np_bitmap_create(&cpus) < 0 || np_bitmap_parse(cpus, argv[3]) < 0) {
        fprintf(stderr, "np-steer: bad PID or CPU list\n");
        return 2;
    }
    np_linux_backend_opts o = {.source = NP_LINUX_GUESTS_PIDS, .pids = &pid, .nr_pids = 1,
                               .use_cgroup_cpuset = use_cgroup};
    rc = np_linux_ctx_create("/", log_stderr, NULL, &ctx);
    if (rc == 0)
        rc = np_linux_backend_create(ctx, &o, &lb);
    if (rc == 0)
        rc = np_backend_list_guests(np_linux_backend_get(lb), &gs, &n);
    if (rc == 0 && n != 1)
        rc = -3; /* ESRCH: the process is gone */
    uint32_t nv = rc == 0 ? gs[0].nr_vcpus : 0;
    for (uint32_t v = 0; v < nv && rc == 0; v++)
        rc = np_backend_set_vcpu_affinity(np_linux_backend_get(lb), (uint64_t)pid, v,
                                          soft ? NULL : cpus, soft ? cpus : NULL);
    printf("rc=%d vcpus=%u\n", rc, nv);
    np_backend_guests_free(gs, n);
    np_linux_backend_destroy(lb);
    np_linux_ctx_destroy(ctx);
    np_bitmap_destroy(cpus);
    return rc == 0 ? 0 : 1;
}
