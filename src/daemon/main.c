/*
 * daemon/main.c - numaplaced: keeps the guests of a Linux/KVM host or of a
 * Xen dom0 local to their NUMA nodes. Every period it senses the guests
 * (QEMU processes, a cgroup's processes or named PIDs on Linux; every
 * domain but dom0 on Xen, backend_pick.c), decides, and moves memory in
 * small rate-limited steps (on Xen: whole-guest save/restore, only when
 * allowed) or steers vCPUs (round.c). It answers
 * `numaplace status/verify/exclude/include` on a UNIX socket
 * (ctl_server.c) and keeps its per-guest state in a file across restarts
 * (state.c).
 *
 * Signals: SIGTERM/SIGINT stop after the current step (state saved, socket
 * removed); SIGHUP re-reads the configuration file. Signals are taken
 * through a signalfd so that they are handled in the loop, never inside
 * library code.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "daemon.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: numaplaced [OPTIONS]\n"
            "  -c, --config FILE     configuration file (default %s if it exists)\n"
            "  -b, --backend NAME    linux, xen, libvirt or auto (default: xen on a Xen\n"
            "                        dom0 when built with Xen support, else linux)\n"
            "  -n, --dry-run         report what would be done, never act\n"
            "  -p, --period DURATION time between rounds (default 2s)\n"
            "  -s, --socket PATH     control socket (default %s)\n"
            "  -S, --state PATH      state file (default %s)\n"
            "      --pid PID         balance this process (repeatable; discover = pids;\n"
            "                        Linux backend only)\n"
            "      --cgroup PATH     balance the processes of this cgroup v2 (Linux only)\n"
            "  -l, --log-level LVL   error, warning, info, debug\n"
            "      --root DIR        read /proc and /sys under DIR (tests)\n"
            "      --rounds N        stop after N rounds (tests)\n"
            "  -h, --help, -V, --version\n",
            NP_DAEMON_CONFIG_PATH, NP_CTL_SOCKET_PATH, NP_DAEMON_STATE_PATH);
}

static int load_config(const char *path, bool must_exist, np_daemon_config *cfg)
{
    char *text = NULL;
    size_t len = 0;
    np_error err = {0};
    char buf[900];
    FILE *f = fopen(path, "re");
    if (!f) {
        if (!must_exist && errno == ENOENT)
            return 0;
        dlog(NP_LOG_ERROR, "%s: %s", path, strerror(errno));
        return -errno;
    }
    int c;
    size_t cap = 0;
    while ((c = fgetc(f)) != EOF) {
        if (len + 2 > cap) {
            cap = cap ? cap * 2 : 4096;
            if (cap > (1u << 20)) {
                fclose(f);
                free(text);
                dlog(NP_LOG_ERROR, "%s: larger than 1 MiB", path);
                return -EFBIG;
            }
            char *n = realloc(text, cap);
            if (!n) {
                fclose(f);
                free(text);
                return -ENOMEM;
            }
            text = n;
        }
        text[len++] = (char)c;
    }
    fclose(f);
    int rc = np_daemon_config_parse(text ? text : "", len, path, cfg, &err);
    if (rc)
        dlog(NP_LOG_ERROR, "%s", np_error_format(&err, buf, sizeof(buf)));
    free(text);
    return rc;
}

/* Command-line settings, re-applied over the file on SIGHUP. */
typedef struct cli_over {
    bool dry_run;
    uint64_t period_ns;
    const char *socket, *state, *cgroup;
    int32_t pids[NP_DAEMON_MAX_LIST];
    uint32_t nr_pids;
    int level;   /* -1 = from the file */
    int backend; /* -1 = from the file */
} cli_over;

static void apply_over(const cli_over *o, np_daemon_config *c)
{
    if (o->dry_run)
        c->dry_run = true;
    if (o->period_ns)
        c->period_ns = o->period_ns;
    if (o->socket)
        snprintf(c->socket_path, sizeof(c->socket_path), "%s", o->socket);
    if (o->state)
        snprintf(c->state_path, sizeof(c->state_path), "%s", o->state);
    if (o->cgroup) {
        snprintf(c->cgroup, sizeof(c->cgroup), "%s", o->cgroup);
        c->discover = NP_DISCOVER_CGROUP;
    }
    if (o->nr_pids) {
        memcpy(c->pids, o->pids, sizeof(o->pids));
        c->nr_pids = o->nr_pids;
        c->discover = NP_DISCOVER_PIDS;
    }
    if (o->level >= 0)
        c->log_level = (np_log_level)o->level;
    if (o->backend >= 0)
        c->backend = (np_daemon_backend)o->backend;
}

static int configure(daemon_t *d, const cli_over *o, np_daemon_config *out)
{
    np_daemon_config c;
    np_daemon_backend b;
    np_daemon_config_init(&c);
    const char *path = d->config_path ? d->config_path : NP_DAEMON_CONFIG_PATH;
    int rc = load_config(path, d->config_path != NULL, &c);
    if (rc)
        return rc;
    apply_over(o, &c);
    rc = daemon_backend_check(&c, path, o->cgroup || o->nr_pids, &b);
    if (rc)
        return rc;
    if (d->backend != NP_DAEMON_BACKEND_AUTO && b != d->backend) {
        dlog(NP_LOG_ERROR, "the backend (%s) changes only at a restart",
             np_daemon_backend_name(d->backend));
        return -EINVAL;
    }
    d->backend = b;
    dlog_set_id_word(b == NP_DAEMON_BACKEND_XEN       ? "domid"
                     : b == NP_DAEMON_BACKEND_LIBVIRT ? "domain id"
                                                      : "pid");
    *out = c;
    return 0;
}

static void add_config_exclusions(daemon_t *d)
{
    for (uint32_t i = 0; i < d->cfg.nr_excluded; i++)
        dstate_exclude(&d->st, d->cfg.excluded[i], true);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},    {"dry-run", no_argument, NULL, 'n'},
        {"backend", required_argument, NULL, 'b'},   {"period", required_argument, NULL, 'p'},
        {"socket", required_argument, NULL, 's'},    {"state", required_argument, NULL, 'S'},
        {"pid", required_argument, NULL, 'P'},       {"cgroup", required_argument, NULL, 'G'},
        {"log-level", required_argument, NULL, 'l'}, {"root", required_argument, NULL, 'R'},
        {"rounds", required_argument, NULL, 'r'},    {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},         {NULL, 0, NULL, 0}};
    daemon_t d;
    cli_over o = {.level = -1, .backend = -1};
    const char *root = "/";
    uint64_t max_rounds = 0;
    int opt, rc, sfd = -1, status = 1;
    sigset_t mask;

    memset(&d, 0, sizeof(d));
    d.listen_fd = -1;
    dlog_init(NP_LOG_INFO);
    while ((opt = getopt_long(argc, argv, "c:b:np:s:S:l:hV", opts, NULL)) != -1) {
        uint64_t v;
        np_log_level lvl;
        switch (opt) {
        case 'c': d.config_path = optarg; break;
        case 'n': o.dry_run = true; break;
        case 'b': {
            np_daemon_backend b;
            if (np_daemon_backend_parse(optarg, &b)) {
                fprintf(stderr, "numaplaced: --backend: linux, xen, libvirt or auto\n");
                return 2;
            }
            o.backend = (int)b;
            break;
        }
        case 'p':
            if (np_duration_parse(optarg, &v) || v < NP_DAEMON_PERIOD_MIN_NS) {
                fprintf(stderr, "numaplaced: --period: a duration of at least 100ms\n");
                return 2;
            }
            o.period_ns = v;
            break;
        case 's': o.socket = optarg; break;
        case 'S': o.state = optarg; break;
        case 'G': o.cgroup = optarg; break;
        case 'P': {
            char *end = NULL;
            long p = strtol(optarg, &end, 10);
            if (!end || *end || p <= 0 || p > 4194304 || o.nr_pids >= NP_DAEMON_MAX_LIST) {
                fprintf(stderr, "numaplaced: --pid: a process id (at most 64)\n");
                return 2;
            }
            o.pids[o.nr_pids++] = (int32_t)p;
            break;
        }
        case 'l':
            if (np_log_level_parse(optarg, &lvl)) {
                fprintf(stderr, "numaplaced: --log-level: error, warning, info or debug\n");
                return 2;
            }
            o.level = (int)lvl;
            break;
        case 'R': root = optarg; break;
        case 'r': {
            char *end = NULL;
            unsigned long long r = strtoull(optarg, &end, 10);
            if (!end || *end || r == 0) {
                fprintf(stderr, "numaplaced: --rounds: a positive number\n");
                return 2;
            }
            max_rounds = r;
            break;
        }
        case 'h': usage(stdout); return 0;
        case 'V': printf("numaplaced %s\n", np_version()); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc) {
        usage(stderr);
        return 2;
    }
    if (configure(&d, &o, &d.cfg))
        return 2;
    dlog_set_level(d.cfg.log_level);

    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGHUP);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
    signal(SIGPIPE, SIG_IGN);
    if (sfd < 0) {
        dlog(NP_LOG_ERROR, "signalfd: %s", strerror(errno));
        goto out;
    }
    if (daemon_backend_open(&d, root))
        goto out;
    np_error err = {0};
    rc = dstate_load(&d.st, d.cfg.state_path, &err, &d.bal);
    if (rc == 0) {
        dlog(NP_LOG_INFO, "state loaded from %s: %zu guests, %zu excluded", d.cfg.state_path,
             d.st.nr_guests, d.st.nr_excluded);
        for (size_t i = 0; i < d.st.nr_guests; i++)
            if (d.st.guests[i].inflight)
                dlog(NP_LOG_INFO, "guest %s (%s %lld): resuming a migration node %d -> %d",
                     d.st.guests[i].name, dlog_id_word(), (long long)d.st.guests[i].pid,
                     d.st.guests[i].inflight_from_os_id, d.st.guests[i].home_node_os_id);
    } else if (rc != -ENOENT) {
        char buf[900];
        dlog(NP_LOG_WARNING, "ignoring the state file: %s",
             np_error_format(&err, buf, sizeof(buf)));
        dstate_fini(&d.st);
    }
    add_config_exclusions(&d);
    rc = ctl_listen(&d);
    if (rc) {
        dlog(NP_LOG_ERROR, "control socket %s: %s", d.cfg.socket_path, np_strerror(rc));
        goto out;
    }
    if (daemon_metrics_start(&d))
        goto out;
    dlog(NP_LOG_INFO, "started: backend %s, period %llu ms, %s, socket %s%s",
         np_daemon_backend_name(d.backend), (unsigned long long)(d.cfg.period_ns / 1000000),
         d.backend == NP_DAEMON_BACKEND_XEN       ? "Xen domains but dom0"
         : d.backend == NP_DAEMON_BACKEND_LIBVIRT ? "libvirt domains"
         : d.cfg.discover == NP_DISCOVER_QEMU   ? "QEMU guests"
         : d.cfg.discover == NP_DISCOVER_CGROUP ? "cgroup processes"
                                                : "listed PIDs",
         d.cfg.socket_path, d.cfg.dry_run ? ", dry run" : "");

    uint64_t next_ns = np_linux_clock_now_ns(NULL);
    for (bool running = true; running;) {
        uint64_t now = np_linux_clock_now_ns(NULL);
        if (now >= next_ns) {
            uint64_t t0 = daemon_mono_ns();
            rc = daemon_round(&d);
            daemon_metrics_round(&d, rc, daemon_mono_ns() - t0);
            d.state_dirty = false;
            next_ns = now + d.cfg.period_ns;
            if (max_rounds && d.st.rounds >= max_rounds)
                break;
            continue;
        }
        struct pollfd pf[2] = {{.fd = d.listen_fd, .events = POLLIN},
                               {.fd = sfd, .events = POLLIN}};
        uint64_t wait_ms = (next_ns - now + 999999) / 1000000;
        int r = poll(pf, 2, (int)(wait_ms > 60000 ? 60000 : wait_ms));
        if (r < 0 && errno != EINTR) {
            dlog(NP_LOG_ERROR, "poll: %s", strerror(errno));
            break;
        }
        if (r > 0 && (pf[1].revents & POLLIN)) {
            struct signalfd_siginfo si;
            while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
                if (si.ssi_signo == SIGHUP) {
                    d.reload_asked = true;
                } else {
                    dlog(NP_LOG_INFO, "signal %u: stopping", si.ssi_signo);
                    running = false;
                }
            }
        }
        if (r > 0 && (pf[0].revents & POLLIN))
            ctl_serve_one(&d);
        if (d.state_dirty && !d.cfg.dry_run) {
            dstate_save(&d.st, d.bal, d.cfg.state_path);
            d.state_dirty = false;
        }
        if (d.reload_asked) {
            np_daemon_config c;
            d.reload_asked = false;
            if (configure(&d, &o, &c) == 0) {
                char old_socket[sizeof(d.cfg.socket_path)];
                memcpy(old_socket, d.cfg.socket_path, sizeof(old_socket));
                memcpy(c.socket_path, old_socket, sizeof(old_socket)); /* kept until restart */
                d.cfg = c;
                dlog_set_level(d.cfg.log_level);
                add_config_exclusions(&d);
                daemon_apply_source(&d);
                dlog(NP_LOG_INFO, "configuration reloaded");
            } else {
                dlog(NP_LOG_WARNING, "reload failed: keeping the running configuration");
            }
        }
    }
    status = 0;
    if (!d.cfg.dry_run)
        dstate_save(&d.st, d.bal, d.cfg.state_path);
out:
    daemon_metrics_stop(&d);
    ctl_close(&d);
    if (sfd >= 0)
        close(sfd);
    daemon_backend_close(&d);
    np_balance_state_destroy(d.bal);
    np_balance_state_destroy(d.bal_dry);
    dstate_fini(&d.st);
    return status;
}
