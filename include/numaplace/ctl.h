/*
 * numaplace/ctl.h - what the numaplaced daemon and the numaplace command
 * share: the control protocol spoken over the daemon's UNIX socket and the
 * daemon's configuration file.
 *
 * Control protocol: JSON lines. The client sends one request object on one
 * line, the daemon answers with one reply object on one line and closes:
 *   {"cmd":"status"}                      -> {"ok":true,"guests":[...],...}
 *   {"cmd":"exclude","guest":"web"}       -> {"ok":true}
 *   {"cmd":"include","guest":"web"}
 *   {"cmd":"plan","guest":"web"}          -> {"ok":true,"home":1,...}
 *   {"cmd":"reload"}                      (re-read the configuration file)
 *   {"cmd":"ping"}
 * A malformed request gets {"ok":false,"error":"..."}; the daemon never
 * trusts the length, nesting or types of what it reads. exclude, include and
 * reload change the daemon: np_ctl_cmd_mutates() says so, and the daemon
 * refuses them unless the peer (SO_PEERCRED) is root.
 *
 * Configuration file: "key = value" lines, '#' starts a comment. Keys and
 * their meaning are listed at np_daemon_config below and in numaplaced(8).
 */
#ifndef NUMAPLACE_CTL_H
#define NUMAPLACE_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <numaplace/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Longest request or reply line the daemon reads (bytes, newline included):
 * a status reply for 256 guests is about 64 KiB; requests are tiny. */
#define NP_CTL_REQUEST_MAX 4096u
#define NP_CTL_REPLY_MAX (1u << 20)
/* Longest guest name in a request (the host state's limit). */
#define NP_CTL_GUEST_MAX 128u
/* Where the daemon listens unless configured otherwise. */
#define NP_CTL_SOCKET_PATH "/run/numaplaced.sock"

typedef enum np_ctl_cmd {
    NP_CTL_PING = 0,
    NP_CTL_STATUS,
    NP_CTL_PLAN,
    NP_CTL_EXCLUDE,
    NP_CTL_INCLUDE,
    NP_CTL_RELOAD,
} np_ctl_cmd;

typedef struct np_ctl_request {
    np_ctl_cmd cmd;
    char guest[NP_CTL_GUEST_MAX]; /* PLAN, EXCLUDE, INCLUDE: a name or a PID */
} np_ctl_request;

/* Parses one request line (trailing newline allowed). -EINVAL with err->msg
 * saying what was expected (origin "<socket>", line 1). */
int np_ctl_request_parse(const char *text, size_t len, np_ctl_request *out, np_error *err);
/* The request as one JSON line with its newline, malloc'd, in *line_out. */
int np_ctl_request_format(const np_ctl_request *req, char **line_out);
const char *np_ctl_cmd_name(np_ctl_cmd cmd);
/* True for commands that change the daemon (root only). */
bool np_ctl_cmd_mutates(np_ctl_cmd cmd);
/* {"ok":false,"error":MSG} with a newline, malloc'd. */
int np_ctl_error_reply(const char *msg, char **line_out);

/* ---- the daemon's configuration -------------------------------------------- */

/* Defaults and why. */
/* ESXi rebalances every 2 s; numad every 5-15 s because its moves are whole
 * processes (anchors.md). Our moves are chunked, so the short period. */
#define NP_DAEMON_PERIOD_NS UINT64_C(2000000000)
#define NP_DAEMON_PERIOD_MIN_NS UINT64_C(100000000) /* 100 ms: below, sensing dominates */
/* The kernel's historic NUMA-migration cap, 1280 MB/s (mm/migrate.c). */
#define NP_DAEMON_MIGRATE_BUDGET_BPS UINT64_C(1280000000)
/* numad's default target: 90% of a guest's memory local. */
#define NP_DAEMON_LOCALITY_TARGET 0.90
/* verify: memory outside the planned nodes tolerated (10%). */
#define NP_DAEMON_VERIFY_TOLERANCE 0.10
#define NP_DAEMON_STATE_PATH "/var/lib/numaplace/state.json"
#define NP_DAEMON_CONFIG_PATH "/etc/numaplace/numaplaced.conf"
#define NP_DAEMON_MAX_LIST 64u /* pids / excluded names in a config file */
/* Where the Xen backend writes a domain's save image while it moves the
 * domain's memory by save/restore (xen_memory_move = save-restore): on
 * disk, not /run, because the image is as large as the guest. */
#define NP_DAEMON_XEN_SAVE_DIR "/var/lib/numaplace/xen-save"

/* Which backend the daemon drives. auto: Xen when numaplace was built with
 * Xen support and this is a Xen control domain (/proc/xen/capabilities
 * says control_d), else Linux. */
typedef enum np_daemon_backend {
    NP_DAEMON_BACKEND_AUTO = 0,
    NP_DAEMON_BACKEND_LINUX,
    NP_DAEMON_BACKEND_XEN,
    NP_DAEMON_BACKEND_LIBVIRT, /* libvirt domains through libvirt's API (never chosen by auto) */
} np_daemon_backend;

/* The libvirt connection numaplaced opens with backend = libvirt. */
#define NP_DAEMON_LIBVIRT_URI "qemu:///system"

/* How the Xen backend may move a domain's memory between nodes. Xen 4.17
 * cannot move the memory of a running domain; the only way is to save the
 * whole domain and restore it with a new node affinity, which pauses it
 * for seconds. Off unless asked for. */
typedef enum np_daemon_xen_move {
    NP_DAEMON_XEN_MOVE_OFF = 0,
    NP_DAEMON_XEN_MOVE_SAVE_RESTORE,
} np_daemon_xen_move;

/* Whether the Linux mover stops a guest (SIGSTOP) for the short steps
 * that move its pages (np_linux_quiesce_mode in linux.h; numaplaced(8)). */
typedef enum np_daemon_move_quiesce {
    NP_DAEMON_QUIESCE_AUTO = 0, /* when moving beside the running guest is slow */
    NP_DAEMON_QUIESCE_NEVER,
    NP_DAEMON_QUIESCE_ALWAYS,
} np_daemon_move_quiesce;

/* How the daemon finds guests. */
typedef enum np_daemon_discover {
    NP_DISCOVER_QEMU = 0, /* every QEMU process (libvirt's and plain) */
    NP_DISCOVER_CGROUP,   /* every process of `cgroup` */
    NP_DISCOVER_PIDS,     /* only the PIDs listed */
} np_daemon_discover;

typedef struct np_daemon_config {
    uint64_t period_ns;              /* period = 2s */
    bool dry_run;                    /* dry_run = yes: report, never act */
    np_daemon_discover discover;     /* discover = qemu | cgroup | pids */
    char cgroup[256];                /* cgroup = /machine.slice */
    uint32_t nr_pids;                /* pid = 1234 (repeatable) */
    int32_t pids[NP_DAEMON_MAX_LIST];
    uint32_t nr_excluded;            /* exclude = NAME (repeatable) */
    char excluded[NP_DAEMON_MAX_LIST][NP_CTL_GUEST_MAX];
    char socket_path[108];           /* socket = /run/numaplaced.sock */
    char socket_group[64];           /* socket_group = numaplace ("" = root only) */
    char state_path[256];            /* state_file = /var/lib/numaplace/state.json */
    np_log_level log_level;          /* log_level = error|warning|info|debug */
    uint64_t migrate_budget_bps;     /* migrate_budget = 64M (bytes per second) */
    double locality_target;          /* locality_target = 0.9 */
    bool use_cgroup_cpuset;          /* cgroup_cpuset = yes: write cpuset.mems,
                                        widen cpuset.cpus for steering */
    np_daemon_backend backend;       /* backend = auto | linux | xen */
    /* Line of the first discover, cgroup or pid key (options of the Linux
     * backend only), 0 when the text had none: an error with backend xen
     * names it. */
    unsigned linux_keys_line;
    np_daemon_xen_move xen_memory_move; /* xen_memory_move = off | save-restore */
    /* Line of the socket_group key (0: none): a group that does not exist
     * is found when the socket is made, and the error names this line. */
    unsigned socket_group_line;
    char xen_save_dir[256];             /* xen_save_dir = /var/lib/numaplace/xen-save */
    char metrics_listen[64];            /* metrics_listen = 127.0.0.1:9464 ("" = no
                                           metrics listener, the default) */
    char libvirt_uri[256];              /* libvirt_uri = qemu:///system */
    np_daemon_move_quiesce move_quiesce; /* move_quiesce = auto | never | always */
} np_daemon_config;

void np_daemon_config_init(np_daemon_config *cfg);
/* Applies the "key = value" lines of text on top of *cfg (so defaults and
 * command-line options compose). -EINVAL with err (origin, line, what was
 * expected); *cfg is then unchanged. backend = xen together with a Linux
 * key (discover, cgroup, pid) is an error naming the Linux key's line. */
int np_daemon_config_parse(const char *text, size_t len, const char *origin,
                           np_daemon_config *cfg, np_error *err);
/* "2s", "500ms", "1500us", "10ns", "1m": -EINVAL / -ERANGE. */
int np_duration_parse(const char *text, uint64_t *ns_out);
const char *np_log_level_name(np_log_level level);
/* "auto", "linux", "xen"; parse: -EINVAL for anything else. */
const char *np_daemon_backend_name(np_daemon_backend backend);
int np_daemon_backend_parse(const char *text, np_daemon_backend *out);
/* The backend `want` stands for on this machine: auto is xen when
 * numaplace has Xen support (xen_built) and this is a control domain
 * (is_dom0), else linux; linux and xen stand for themselves. Never auto. */
np_daemon_backend np_daemon_backend_resolve(np_daemon_backend want, bool xen_built, bool is_dom0);
int np_log_level_parse(const char *text, np_log_level *out);

#ifdef __cplusplus
}
#endif
#endif /* NUMAPLACE_CTL_H */
