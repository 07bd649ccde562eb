/*
 * daemon/daemon.h - the pieces of numaplaced, the balancing daemon for
 * Linux/KVM hosts and Xen dom0s: logging (log.c), the persistent state
 * (state.c), one sense -> decide -> act round (round.c), the control
 * socket (ctl_server.c), the choice of backend (backend_pick.c) and the
 * main loop (main.c). Internal to the daemon.
 */
#ifndef NP_DAEMON_H
#define NP_DAEMON_H

#include <stdbool.h>
#include <stdint.h>
#include <poll.h>
#include <sys/types.h>

#include <jansson.h>

#include <numaplace/backend.h>
#include <numaplace/backend_linux.h>
#include <numaplace/balance.h>
#include <numaplace/ctl.h>
#include <numaplace/linux.h>
#include <numaplace/xen.h>

/* ---- logging (stderr; systemd's journal reads the "<N>" prefixes) ---------- */
void dlog_init(np_log_level level);
void dlog_set_level(np_log_level level);
/* What the log calls a guest's id: "pid" (Linux, the default) or "domid"
 * (Xen), set when the backend is chosen. */
void dlog_set_id_word(const char *word);
const char *dlog_id_word(void);
/* "12.5 MiB" into buf; returns buf. */
const char *dlog_mib(uint64_t bytes, char *buf, size_t len);
void dlog(np_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The np_log_fn the library's contexts get. */
void dlog_sink(void *opaque, np_log_level level, const char *subsys, const char *msg);

/* ---- what the daemon remembers per guest --------------------------------- */

/* Rounds of low locality before the daemon acts (the balancer's
 * confirm_rounds): one last-CPU sample is noise (the kernel's NUMA
 * balancing likewise waits for a repeated fault); 2 rounds = 4 s at the
 * default period, where the balancer's library default of 3 waits 6 s. */
#define DAEMON_CONFIRM_ROUNDS 2u
/* Largest single migration step: 4 MiB (1024 pages; 2-5 ms of copying at
 * the 2-5 us a page of real hardware). Between steps the daemon answers
 * the control socket, so a request waits for one step at most: on the TCG
 * test guest a 16 MiB step once took 12 s, past the CLI's 10 s timeout.
 * A guest's mover continues its walk from step to step, so small steps
 * cost no re-walk. */
#define DAEMON_CHUNK_BYTES (UINT64_C(4) << 20)
/* A step of the mover threads (move_worker.h): 16 MiB. They run beside
 * the control socket, so a step's length delays no request; a SIGTERM or a
 * cancel is seen between the mover's batches (should_stop), not steps. Why
 * larger than DAEMON_CHUNK_BYTES: a quiesced step of about 900 pages (what
 * the fit of linux/mover.c gives for 138 ms + 0.46 ms a page) would leave a
 * 124-page remainder in every 1024-page step and pay a quiesced call's
 * fixed cost for those 124 pages. */
#define DAEMON_WORKER_STEP_BYTES (UINT64_C(16) << 20)
/* During a migration the state is saved at most this often (1 s): a step
 * is milliseconds on real hardware, and an fsync per step would cost more
 * than the step. Pages already moved are never moved again anyway. */
#define DAEMON_SAVE_INTERVAL_NS UINT64_C(1000000000)
/* At SIGTERM the mover thread gets this long, counted from the signal, to
 * finish its batch (its move_pages call: milliseconds on hardware, up to
 * a second under TCG); after that the daemon saves, lets go of its socket
 * and locks and exits, and the kernel completes the call as the process
 * ends. The mover is asked to stop when the signal is seen (by the
 * control thread, even while the main thread is in a round), not when the
 * main thread gets to its stop: before, the round's remainder and this
 * wait added up (vm/daemon-status-sigterm: "stopped within 1 s" failed at
 * 1,040 ms). */
#define DAEMON_STOP_WAIT_NS UINT64_C(500000000)
/* After SIGTERM the main thread gets this long to reach its stop; a round
 * blocked in the kernel longer (sensing a guest whose pages are moving)
 * is not waited for: the control thread ends the daemon with the state
 * as last saved (ctl_server.c). */
#define DAEMON_STOP_GRACE_NS UINT64_C(600000000)
/* Recent actions kept for `numaplace status`. */
#define DAEMON_RECENT_MAX 32u

/* A guest's helper threads as status lists them: QEMU's emulator and I/O
 * threads and the vhost workers of its queues (helpers.c), with where the
 * kernel lets each run at the end of the last round. At most
 * DAEMON_HELPERS_MAX are kept; nr_helpers_found says how many there were. */
#define DAEMON_HELPERS_MAX 16u
typedef struct dhelper {
    int32_t tid;
    char kind[12];  /* "emulator", "io", "vhost" (np_linux_helper_kind_name) */
    char comm[16];
    char cpus[64];  /* CPU list of its affinity; "" when it could not be read */
} dhelper;

typedef struct dguest {
    char name[NP_CTL_GUEST_MAX];
    int64_t pid;
    /* The backend's instance (Linux: the process's start time; 0: not
     * known): with the pid, who the guest is (a reused pid is a new guest). */
    uint64_t instance;
    int32_t home_node_os_id;  /* -1 = none yet */
    /* The balancer's home set (bit k: node os id k) of a guest wider than
     * one node; 0 when its home is one node (home_node_os_id). */
    uint64_t home_nodes_mask;
    uint64_t moved_bytes;     /* total moved by the daemon */
    /* In flight: a migration toward home that is not finished (kept from
     * the balancer's pending bytes, for status, the log and restarts).
     * inflight_from_mask: every node (bit k: os id k) the migration has
     * asked memory off since it started, for the "done" log line. */
    bool inflight;
    uint64_t inflight_from_mask;
    uint64_t inflight_left_bytes;
    /* Last sensed. locality and reason are the balancer's (per vCPU: the
     * node it runs on against the memory per node; why it is below target). */
    double locality;
    char reason[NP_BALANCE_REASON_MAX];
    /* The balancer's memory off home at the last round, and the size of
     * the move under way (status's "moving: N% of M MiB"). */
    uint64_t pending_bytes, move_total_bytes;
    /* moved_bytes when the move under way started (less what it had done
     * before a restart): status counts its progress from what the mover
     * reports, not from sensing, which may show the memory of a guest
     * whose pages are moving as it was before. progress_base: it is set. */
    uint64_t moved_at_start_bytes;
    bool progress_base;
    uint64_t total_bytes;
    uint64_t *mem_by_node_idx;
    size_t nr_nodes;
    uint32_t nr_vcpus;
    dhelper helpers[DAEMON_HELPERS_MAX];
    uint32_t nr_helpers, nr_helpers_found;
    bool seen;
} dguest;

typedef struct drecent {
    uint64_t wall_s;          /* realtime seconds */
    char text[200];
} drecent;

/* Exits already logged, so that one guest's exit is logged once whichever
 * path sees it first (an action's -ESRCH, its mover job's, the next
 * listing without it, a zombie listed once more). */
#define DAEMON_EXITED_MAX 64u

typedef struct dexited {
    int64_t pid;
    uint64_t start_ticks;
    char name[NP_CTL_GUEST_MAX];
} dexited;

typedef struct dstate {
    dguest *guests;
    size_t nr_guests, cap_guests;
    char (*excluded)[NP_CTL_GUEST_MAX];
    size_t nr_excluded, cap_excluded;
    drecent recent[DAEMON_RECENT_MAX];
    size_t nr_recent, recent_head;
    uint64_t rounds;
    dexited exited[DAEMON_EXITED_MAX]; /* ring */
    size_t exited_head;
} dstate;

void dstate_fini(dstate *s);
dguest *dstate_guest(dstate *s, const char *name, int64_t pid, bool create);
bool dstate_is_excluded(const dstate *s, const char *name, int64_t pid);
int dstate_exclude(dstate *s, const char *name, bool exclude);
void dstate_note(dstate *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* True the first time the exit of this guest (name, pid, start time) is
 * reported: the caller logs it then, and only then. */
bool dstate_first_exit(dstate *s, const char *name, int64_t pid, uint64_t start_ticks);
/* Removes g (a pointer into s->guests) from s. */
void dstate_forget(dstate *s, dguest *g);
/* Saves atomically (temp file, fsync, rename), with the balancer's state
 * (NULL: none). */
int dstate_save(const dstate *s, const np_balance_state *bal, const char *path);
/* Loads; -ENOENT when there is no file yet. *bal_out: the balancer's
 * state when the file holds one, else NULL. Other failures, with err
 * saying why: -EINVAL when the content is unreadable (not JSON, wrong
 * types, an older or missing version; s then holds the exclusions that
 * could still be read, the caller moves the file aside), -EPROTONOSUPPORT
 * when a newer numaplaced wrote it, -EISDIR, -EBADF (not a regular file)
 * and -errno when it cannot be opened or read (never moved: the caller
 * refuses to start). */
int dstate_load(dstate *s, const char *path, np_error *err, np_balance_state **bal_out);
/* Reads fd to its end into a NUL-terminated heap buffer of at most
 * max_bytes (-EFBIG beyond); -errno when a read fails (EISDIR, EIO). */
int daemon_read_fd(int fd, size_t max_bytes, char **buf_out, size_t *len_out);
/* Renames an unreadable state file to PATH.bad-YYYYmmddTHHMMSSZ (a suffix
 * -N when that exists), the new name in moved_to. */
int dstate_move_aside(const char *path, char *moved_to, size_t cap);
json_t *dstate_status_json(const dstate *s, const np_topology *topo);
/* Brings status (a dstate_status_json object) up to date with the excluded
 * list and the recent actions: callable from the control thread while the
 * main thread runs rounds (those two are under their own lock). */
void dstate_status_lists(const dstate *s, json_t *status);
/* "node 1" or "nodes 1,3" for a set of node os ids (bit k: os id k); "node
 * ?" for the empty set. Nodes with an os id above 63 are not in a set.
 * dnodes_list: the list alone, "1" or "1,3" ("?" for the empty set). The
 * log says "node 1 -> 0" (the form the VM tests match) and "nodes 1,3 ->
 * 0,2": dnodes_text of the sources, dnodes_list of the destinations. */
const char *dnodes_text(uint64_t os_mask, char *buf, size_t len);
const char *dnodes_list(uint64_t os_mask, char *buf, size_t len);
/* A guest's home as a set: its home set, else its one home node's bit
 * (0 when it has no home or the os id is above 63). */
uint64_t dguest_home_set(int32_t home_os_id, uint64_t home_nodes_mask);
/* status's reason for a move under way: "moving: N% of M MiB to node H"
 * or, for a home set, "... to nodes 0,2". */
void dmove_reason(char *buf, size_t len, uint64_t done_bytes, uint64_t total_bytes,
                  int32_t home_os_id, uint64_t home_nodes_mask);

/* ---- the daemon ------------------------------------------------------------ */

typedef struct daemon {
    np_daemon_config cfg;
    const char *config_path;   /* NULL: none */
    np_daemon_backend backend; /* linux or xen (resolved, never auto) */
    np_backend *be;            /* what rounds and the socket use */
    np_backend *own_be;        /* be when the daemon created it (Xen) */
    np_linux_ctx *ctx;         /* Linux backend only */
    np_linux_backend *lb;
    np_xen *xen;               /* Xen backend only */
    struct dworker *worker;    /* memory mover thread (move_worker.h), NULL: moves in the round */
    /* At a stop the mover was still inside a move_pages call: the backend
     * stays as it is and main() ends the process at once (_exit). */
    bool worker_left;
    dstate st;
    np_balance_state *bal;    /* the pure balancer's memory, NULL until used */
    np_balance_state *bal_dry; /* dry run: a copy the balancer decides on */
    uint64_t saved_ns;        /* last save during a migration (daemon_mono_ns) */
    int listen_fd;
    struct ctl_server *ctl;   /* the connections being served (ctl_server.c) */
    gid_t socket_gid;         /* group allowed to connect (read-only commands) */
    /* Set by the control thread; the main loop acts on them, woken through
     * wake_fd (an eventfd). */
    _Atomic bool reload_asked;
    _Atomic bool state_dirty;
    int wake_fd;
    /* The main thread left its loop to stop (the control thread then
     * leaves the stop to it), and the lock files it holds (main.c). */
    _Atomic bool stopping;
    int sock_lock_fd, state_lock_fd;
    struct daemon_metrics *metrics; /* metrics.c; NULL without metrics_listen */
    struct np_libvirt *lv;          /* libvirt backend only */
} daemon_t;

/* One round: sense, decide, act (or report in dry-run). */
int daemon_round(daemon_t *d);
/* One np_balance() round over the guests marked managed (balance_glue.c);
 * budget_bps: the migration budget left for it. */
int daemon_balance(daemon_t *d, np_backend *be, const np_backend_guest *gs, size_t n,
                   const bool *managed, uint64_t now_ns, uint64_t budget_bps);
/* One migration action: bytes from one node to another (idx for the
 * backend, os_id for the log). */
typedef struct daemon_move {
    size_t from_idx, to_idx;
    unsigned from_os_id, to_os_id;
    uint64_t bytes;
} daemon_move;
/* Moves a guest's memory in DAEMON_CHUNK_BYTES steps, paced by
 * migrate_budget, logging each step and publishing the status after each
 * (inline_move.c: a backend without a mover thread). *moved_out: bytes
 * moved. Stops early (0) when the guest gets excluded meanwhile; -ESRCH
 * when it exited. */
int daemon_migrate(daemon_t *d, np_backend *be, uint64_t guest_id, const char *name,
                   const daemon_move *mv, uint64_t *moved_out);
/* The guest's helper threads and their affinity, for status (helpers.c):
 * read for the Linux and libvirt backends (the QEMU process under the
 * daemon's root), none for the others. Never fails: a guest whose threads
 * cannot be read lists none. */
void daemon_sense_helpers(daemon_t *d, dguest *g, const np_linux_vhost_scan *vhost);
/* daemon_sense_helpers for every guest seen this round, with one scan of
 * the host's kernel vhost workers. */
void daemon_sense_all_helpers(daemon_t *d);
/* Saves d->st and the balancer's state to the state file; a failure is
 * logged as a warning (state.c). */
int daemon_save(daemon_t *d);

/* ---- the backend (backend_pick.c) ------------------------------------------ */
/* The backend c asks for on this machine, in *out (linux or xen); logs and
 * returns -EINVAL when Linux discovery options (c->linux_keys_line in
 * cfg_path, or --cgroup/--pid: cli_linux_opts) meet the Xen backend, and
 * -ENOTSUP for xen without Xen support. */
int daemon_backend_check(const np_daemon_config *c, const char *cfg_path, bool cli_linux_opts,
                         np_daemon_backend *out);
/* Opens d->backend: sets d->be (root: /proc and /sys for Linux). */
int daemon_backend_open(daemon_t *d, const char *root);
void daemon_backend_close(daemon_t *d);
/* Backend options from the configuration (Linux discovery, Xen memory
 * moves), at open and on reload. */
int daemon_apply_source(daemon_t *d);

/* ---- the control socket (ctl_server.c) ------------------------------------ */
/* Binds d->cfg.socket_path. A path that exists is replaced only when it is
 * a socket (a stale one of a previous run: the caller holds the socket's
 * lock, daemon_lock()); anything else is refused with a message. */
int ctl_listen(daemon_t *d);
/* Closes every connection and the socket, and removes the socket file when
 * it is still the one ctl_listen created. */
void ctl_close(daemon_t *d);
/* Starts the control thread: it serves the socket from the last
 * publication and never waits on the main thread. */
int ctl_start(daemon_t *d);
/* Publishes what status and plan answer from now on (main thread: after
 * sensing, after deciding, after a migration step). */
int ctl_publish(daemon_t *d);

/* ---- signals (main.c) ---------------------------------------------------- */
/* True once SIGTERM or SIGINT arrived: a long task (a migration's steps)
 * stops at its next step, leaving what it moved consistent. Reads the
 * daemon's signalfd without blocking; callable from any thread. */
bool daemon_should_stop(void);
/* When daemon_should_stop() first saw SIGTERM or SIGINT (CLOCK_MONOTONIC
 * ns, by whichever thread read it); 0 before. */
uint64_t daemon_stop_seen_ns(void);
/* The signalfd, for poll() (-1 before main sets it up). */
int daemon_signal_fd(void);
/* Waits until deadline_ns (CLOCK_MONOTONIC) or a stop is asked, whichever
 * comes first (between the round's own migration steps). */
void daemon_wait_until(uint64_t deadline_ns);
/* CLOCK_MONOTONIC in ns (the deadline's clock). */
uint64_t daemon_mono_ns(void);


/* ---- Prometheus metrics (metrics.c; docs/metrics.md) ------------------------ */
/* Error lines logged so far (log.c). */
uint64_t dlog_error_count(void);
/* Starts the listener on cfg.metrics_listen (nothing when it is empty). */
int daemon_metrics_start(daemon_t *d);
void daemon_metrics_stop(daemon_t *d);
/* After sensing (round.c): the guests listed and how long sensing took. */
void daemon_metrics_sensed(daemon_t *d, const np_backend_guest *gs, size_t n, uint64_t sense_ns);
/* After a round (main.c): renders the text the listener serves next. */
void daemon_metrics_round(daemon_t *d, int rc, uint64_t round_ns);

#endif
