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
 * One daemon per socket and per state file: each has a lock file beside
 * it (PATH.lock, flock()ed for the daemon's whole life, its PID written in
 * it); a second daemon on either is refused with the first one's PID.
 * Path options are checked like the configuration file's keys (no silent
 * truncation). A state file that cannot be read is moved aside
 * (state.json.bad-TIME) and reported, one a newer numaplaced wrote is left
 * alone and the daemon refuses to start, and exclusions that can still be
 * read from a damaged file are kept.
 *
 * Signals: SIGTERM/SIGINT stop after the current migration step (state
 * saved, socket removed); SIGHUP re-reads the configuration file and keeps
 * the running one when the new one cannot be read or parsed. Signals are
 * taken through a signalfd so that they are handled in the loop, never
 * inside library code; daemon_should_stop() lets a long task ask between
 * two steps.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
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

/* Largest configuration file read (the parser's own limit is per line). */
#define CONFIG_MAX_BYTES (1u << 20)

/* Reads and parses path on top of *cfg. A missing file is the defaults
 * when !must_exist; any other failure to read it (a directory, no
 * permission, an I/O error) is an error, never the defaults: on SIGHUP the
 * running configuration is then kept. */
static int load_config(const char *path, bool must_exist, np_daemon_config *cfg)
{
    char *text = NULL;
    size_t len = 0;
    np_error err = {0};
    char buf[900];
    struct stat st;
    int rc, fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

    if (fd < 0) {
        if (!must_exist && errno == ENOENT)
            return 0;
        rc = -errno;
        dlog(NP_LOG_ERROR, "%s: cannot open the configuration file: %s", path, strerror(errno));
        return rc;
    }
    if (fstat(fd, &st) < 0) {
        rc = -errno;
        dlog(NP_LOG_ERROR, "%s: cannot stat the configuration file: %s", path, strerror(errno));
        close(fd);
        return rc;
    }
    if (!S_ISREG(st.st_mode)) {
        dlog(NP_LOG_ERROR, "%s: the configuration file is %s", path,
             S_ISDIR(st.st_mode) ? "a directory" : "not a regular file");
        close(fd);
        return S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
    }
    rc = daemon_read_fd(fd, CONFIG_MAX_BYTES, &text, &len);
    close(fd);
    if (rc == -EFBIG) {
        dlog(NP_LOG_ERROR, "%s: larger than 1 MiB", path);
        return rc;
    }
    if (rc) {
        dlog(NP_LOG_ERROR, "%s: cannot read the configuration file: %s", path, np_strerror(rc));
        return rc;
    }
    rc = np_daemon_config_parse(text, len, path, cfg, &err);
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
    /* lengths checked when the options were read (path_option) */
    if (o->socket)
        memcpy(c->socket_path, o->socket, strlen(o->socket) + 1);
    if (o->state)
        memcpy(c->state_path, o->state, strlen(o->state) + 1);
    if (o->cgroup) {
        memcpy(c->cgroup, o->cgroup, strlen(o->cgroup) + 1);
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
    if (c.socket_group[0] && !getgrnam(c.socket_group)) {
        dlog(NP_LOG_ERROR, "%s:%u: socket_group %s: no such group", path, c.socket_group_line,
             c.socket_group);
        return -EINVAL;
    }
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

/* ---- signals ------------------------------------------------------------- */

static int sig_fd = -1;
static atomic_bool stop_asked, reload_signalled;
static _Atomic uint64_t stop_seen_ns; /* when stop_asked was first set */

int daemon_signal_fd(void)
{
    return sig_fd;
}

bool daemon_should_stop(void)
{
    struct signalfd_siginfo si;
    while (sig_fd >= 0 && read(sig_fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
        if (si.ssi_signo == SIGHUP) {
            atomic_store(&reload_signalled, true);
        } else if (!atomic_exchange(&stop_asked, true)) {
            atomic_store(&stop_seen_ns, daemon_mono_ns());
            dlog(NP_LOG_INFO, "signal %u: stopping", si.ssi_signo);
        }
    }
    return atomic_load(&stop_asked);
}

uint64_t daemon_stop_seen_ns(void)
{
    return atomic_load(&stop_seen_ns);
}

void daemon_wait_until(uint64_t deadline_ns)
{
    for (;;) {
        uint64_t now = daemon_mono_ns();
        if (now >= deadline_ns || daemon_should_stop())
            return;
        uint64_t wait_ms = (deadline_ns - now + 999999) / 1000000;
        struct pollfd p = {.fd = sig_fd, .events = POLLIN};
        if (poll(&p, sig_fd >= 0 ? 1 : 0, (int)(wait_ms > 1000 ? 1000 : wait_ms)) < 0 &&
            errno != EINTR)
            return;
    }
}

/* ---- one daemon per socket and per state file ------------------------------ */

/* Takes PATH.lock for the daemon's life (the descriptor stays open,
 * close-on-exec); the lock file is never removed, so two daemons can never
 * hold two different files of the same name. Returns the descriptor, or
 * -errno after logging why (-EWOULDBLOCK: another daemon holds it). */
static int take_lock(const char *what, const char *path, bool missing_dir_ok)
{
    char lock[4200], pid[32] = "";
    int fd, rc;

    if ((size_t)snprintf(lock, sizeof(lock), "%s.lock", path) >= sizeof(lock))
        return -ENAMETOOLONG;
    fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        rc = -errno;
        if (!(missing_dir_ok && rc == -ENOENT))
            dlog(NP_LOG_ERROR, "%s %s: cannot open its lock file %s: %s", what, path, lock,
                 strerror(errno));
        return rc;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        rc = -errno;
        if (rc == -EWOULDBLOCK) {
            ssize_t n = pread(fd, pid, sizeof(pid) - 1, 0);
            pid[n > 0 ? n : 0] = '\0';
            pid[strcspn(pid, "\n")] = '\0';
            dlog(NP_LOG_ERROR,
                 "another numaplaced%s%s%s is running with the %s %s (it holds %s): not "
                 "starting a second one",
                 pid[0] ? " (pid " : "", pid, pid[0] ? ")" : "", what, path, lock);
        } else {
            dlog(NP_LOG_ERROR, "%s %s: cannot lock %s: %s", what, path, lock, strerror(errno));
        }
        close(fd);
        return rc;
    }
    int n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, (size_t)n, 0) != n)
        dlog(NP_LOG_WARNING, "%s: cannot write the PID into it: %s", lock, strerror(errno));
    return fd;
}

/* ---- command-line checks ------------------------------------------------------ */

/* A path option: at most cap-1 bytes (the configuration file's limits),
 * absolute when asked; 0 or an exit status after the message. */
static int path_option(const char *opt, const char *v, size_t cap, bool absolute)
{
    if (!v[0] || strlen(v) >= cap) {
        fprintf(stderr, "numaplaced: %s: a path of 1 to %zu bytes (this one has %zu)\n", opt,
                cap - 1, strlen(v));
        return 2;
    }
    if (absolute && v[0] != '/') {
        fprintf(stderr, "numaplaced: %s: an absolute path, starting with /\n", opt);
        return 2;
    }
    return 0;
}

/* The state file at start: loaded, or moved aside when unreadable; false
 * (after the message) when the daemon must not start. */
static bool load_state(daemon_t *d)
{
    np_error err = {0};
    char buf[900], moved[4300];
    int rc = dstate_load(&d->st, d->cfg.state_path, &err, &d->bal);

    if (rc == 0) {
        dlog(NP_LOG_INFO, "state loaded from %s: %zu guests, %zu excluded", d->cfg.state_path,
             d->st.nr_guests, d->st.nr_excluded);
        for (size_t i = 0; i < d->st.nr_guests; i++) {
            dguest *g = &d->st.guests[i];
            np_balance_guest_info info;
            char from[96], to[96];
            if (!g->inflight)
                continue;
            /* its home set is the balancer's (saved with it) */
            if (d->bal && np_balance_state_guest(d->bal, g->name, &info) == 0 &&
                info.home_node_os_id == g->home_node_os_id)
                g->home_nodes_mask = info.home_nodes_mask;
            dlog(NP_LOG_INFO, "guest %s (%s %lld): resuming a migration %s -> %s", g->name,
                 dlog_id_word(), (long long)g->pid,
                 dnodes_text(g->inflight_from_mask, from, sizeof(from)),
                 dnodes_list(dguest_home_set(g->home_node_os_id, g->home_nodes_mask), to,
                             sizeof(to)));
        }
        return true;
    }
    if (rc == -ENOENT)
        return true;
    np_error_format(&err, buf, sizeof(buf));
    if (rc == -EPROTONOSUPPORT) {
        dlog(NP_LOG_ERROR,
             "%s; not touching it: run that numaplaced, or move the file away "
             "to start afresh",
             buf);
        return false;
    }
    if (rc != -EINVAL) {
        dlog(NP_LOG_ERROR, "state file %s", buf);
        return false;
    }
    size_t kept = d->st.nr_excluded;
    if (d->cfg.dry_run) {
        dlog(NP_LOG_WARNING,
             "state file %s; dry run: left as it is, starting with %zu "
             "exclusions read from it",
             buf, kept);
    } else {
        rc = dstate_move_aside(d->cfg.state_path, moved, sizeof(moved));
        if (rc) {
            dlog(NP_LOG_ERROR, "state file %s; cannot move it aside: %s; not overwriting it", buf,
                 np_strerror(rc));
            return false;
        }
        dlog(NP_LOG_WARNING,
             "state file %s; moved aside to %s, starting afresh with the %zu "
             "exclusions read from it",
             buf, moved, kept);
    }
    /* keep only the exclusions read (salvaged), nothing else of it */
    np_balance_state_destroy(d->bal);
    d->bal = NULL;
    return true;
}

/* The cgroup to balance must exist at start (and at a reload): its
 * processes are read every round. */
static bool cgroup_ok(daemon_t *d)
{
    pid_t *pids = NULL;
    size_t n = 0;
    int rc;

    if (d->backend != NP_DAEMON_BACKEND_LINUX || d->cfg.discover != NP_DISCOVER_CGROUP || !d->ctx)
        return true;
    rc = np_linux_cgroup_procs(d->ctx, d->cfg.cgroup, &pids, &n);
    free(pids);
    if (rc)
        dlog(NP_LOG_ERROR, "cgroup %s: cannot read its processes: %s", d->cfg.cgroup,
             np_strerror(rc));
    return rc == 0;
}

static void reload(daemon_t *d, const cli_over *o)
{
    np_daemon_config c, old = d->cfg;

    if (configure(d, o, &c) != 0) {
        dlog(NP_LOG_WARNING, "reload failed: keeping the running configuration");
        return;
    }
    /* The socket and the state file are locked: they change at a restart. */
    if (strcmp(c.socket_path, old.socket_path) || strcmp(c.state_path, old.state_path) ||
        strcmp(c.socket_group, old.socket_group))
        dlog(NP_LOG_WARNING,
             "reload: socket, socket_group and state_file change only at a "
             "restart; keeping %s and %s",
             old.socket_path, old.state_path);
    memcpy(c.socket_path, old.socket_path, sizeof(c.socket_path));
    memcpy(c.state_path, old.state_path, sizeof(c.state_path));
    memcpy(c.socket_group, old.socket_group, sizeof(c.socket_group));
    c.socket_group_line = old.socket_group_line;
    d->cfg = c;
    if (!cgroup_ok(d)) {
        d->cfg = old;
        dlog(NP_LOG_WARNING, "reload failed: keeping the running configuration");
        return;
    }
    dlog_set_level(d->cfg.log_level);
    add_config_exclusions(d);
    daemon_apply_source(d);
    dlog(NP_LOG_INFO, "configuration reloaded");
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
    np_daemon_config defaults;
    const char *root = "/";
    uint64_t max_rounds = 0;
    int opt, rc, status = 1;
    sigset_t mask;

    memset(&d, 0, sizeof(d));
    d.listen_fd = -1;
    d.wake_fd = -1;
    d.sock_lock_fd = d.state_lock_fd = -1;
    np_daemon_config_init(&defaults);
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
        case 's':
            if ((rc = path_option("--socket", optarg, sizeof(defaults.socket_path), false)))
                return rc;
            o.socket = optarg;
            break;
        case 'S':
            if ((rc = path_option("--state", optarg, sizeof(defaults.state_path), false)))
                return rc;
            o.state = optarg;
            break;
        case 'G':
            if ((rc = path_option("--cgroup", optarg, sizeof(defaults.cgroup), true)))
                return rc;
            o.cgroup = optarg;
            break;
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
            unsigned long long r = 0;
            errno = 0;
            if (optarg[0] >= '0' && optarg[0] <= '9') /* strtoull takes "-1" */
                r = strtoull(optarg, &end, 10);
            if (!end || *end || r == 0 || errno) {
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
    sig_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
    signal(SIGPIPE, SIG_IGN);
    if (sig_fd < 0) {
        dlog(NP_LOG_ERROR, "signalfd: %s", strerror(errno));
        goto out;
    }
    d.sock_lock_fd = take_lock("control socket", d.cfg.socket_path, false);
    if (d.sock_lock_fd < 0)
        goto out;
    d.state_lock_fd = take_lock("state file", d.cfg.state_path, d.cfg.dry_run);
    if (d.state_lock_fd < 0 && !(d.cfg.dry_run && d.state_lock_fd == -ENOENT))
        goto out; /* a dry run never writes the state: its directory may be missing */
    if (daemon_backend_open(&d, root))
        goto out;
    if (!cgroup_ok(&d))
        goto out;
    if (!load_state(&d))
        goto out;
    add_config_exclusions(&d);
    d.wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (d.wake_fd < 0) {
        dlog(NP_LOG_ERROR, "eventfd: %s", strerror(errno));
        goto out;
    }
    rc = ctl_listen(&d);
    if (rc)
        goto out; /* ctl_listen said why */
    if (ctl_publish(&d) || ctl_start(&d))
        goto out;
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

    uint64_t next_ns = daemon_mono_ns();
    while (!daemon_should_stop()) {
        struct pollfd pf[2];
        uint64_t now = daemon_mono_ns();
        if (now >= next_ns) {
            uint64_t t0 = daemon_mono_ns();
            d.state_dirty = false; /* the round saves; a change after this saves again */
            rc = daemon_round(&d);
            daemon_metrics_round(&d, rc, daemon_mono_ns() - t0);
            next_ns = now + d.cfg.period_ns;
            if (max_rounds && d.st.rounds >= max_rounds)
                break;
            continue;
        }
        /* The control thread answers the socket; this loop waits for the
         * next round, a signal or the control thread's wake-up. */
        pf[0] = (struct pollfd){.fd = sig_fd, .events = POLLIN};
        pf[1] = (struct pollfd){.fd = d.wake_fd, .events = POLLIN};
        uint64_t wait_ms = (next_ns - now + 999999) / 1000000;
        int r = poll(pf, 2, (int)(wait_ms > 60000 ? 60000 : wait_ms));
        if (r < 0 && errno != EINTR) {
            dlog(NP_LOG_ERROR, "poll: %s", strerror(errno));
            break;
        }
        if (pf[1].revents) {
            uint64_t v;
            if (read(d.wake_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
                dlog(NP_LOG_WARNING, "eventfd: %s", strerror(errno));
        }
        if (daemon_should_stop())
            break;
        if (atomic_exchange(&d.state_dirty, false) && !d.cfg.dry_run)
            dstate_save(&d.st, d.bal, d.cfg.state_path);
        if (atomic_exchange(&reload_signalled, false))
            d.reload_asked = true;
        if (atomic_exchange(&d.reload_asked, false)) {
            reload(&d, &o);
            ctl_publish(&d);
        }
    }
    d.stopping = true;
    status = 0;
    if (!d.cfg.dry_run) {
        rc = dstate_save(&d.st, d.bal, d.cfg.state_path);
        if (rc) {
            dlog(NP_LOG_ERROR, "cannot save the state to %s: %s", d.cfg.state_path,
                 np_strerror(rc));
            status = 1;
        }
    }
out:
    daemon_metrics_stop(&d);
    ctl_close(&d);
    if (d.wake_fd >= 0)
        close(d.wake_fd);
    if (sig_fd >= 0)
        close(sig_fd);
    sig_fd = -1;
    daemon_backend_close(&d);
    if (d.worker_left) {
        /* The mover is inside a move_pages call: state saved, socket gone;
         * let go of the locks (a new daemon may start now) and end the
         * process without freeing what that thread still uses. */
        if (d.state_lock_fd >= 0)
            close(d.state_lock_fd);
        if (d.sock_lock_fd >= 0)
            close(d.sock_lock_fd);
        dlog(NP_LOG_INFO, "stopped (state saved, socket removed, locks released)");
        _exit(status);
    }
    np_balance_state_destroy(d.bal);
    np_balance_state_destroy(d.bal_dry);
    dstate_fini(&d.st);
    if (d.state_lock_fd >= 0)
        close(d.state_lock_fd);
    if (d.sock_lock_fd >= 0)
        close(d.sock_lock_fd);
    if (status == 0)
        dlog(NP_LOG_INFO, "stopped (state saved, socket removed, locks released)");
    return status;
}
