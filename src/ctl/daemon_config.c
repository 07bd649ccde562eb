/*
 * ctl/daemon_config.c - numaplaced's configuration file: "key = value"
 * lines, '#' comments, blank lines ignored. Every key is listed in
 * numaplace/ctl.h and numaplaced(8). A bad line names its file, its line
 * and what was expected; nothing of a bad file is applied.
 */
#include <numaplace/ctl.h>
#include <numaplace/metrics.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"
#include "util/text.h"

/* Longest period: numad's slowest scan is 15 s; a minute is generous. */
#define PERIOD_MAX_NS UINT64_C(60000000000)

void np_daemon_config_init(np_daemon_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->period_ns = NP_DAEMON_PERIOD_NS;
    cfg->discover = NP_DISCOVER_QEMU;
    snprintf(cfg->socket_path, sizeof(cfg->socket_path), "%s", NP_CTL_SOCKET_PATH);
    snprintf(cfg->state_path, sizeof(cfg->state_path), "%s", NP_DAEMON_STATE_PATH);
    cfg->log_level = NP_LOG_INFO;
    cfg->migrate_budget_bps = NP_DAEMON_MIGRATE_BUDGET_BPS;
    cfg->locality_target = NP_DAEMON_LOCALITY_TARGET;
    cfg->backend = NP_DAEMON_BACKEND_AUTO;
    cfg->move_quiesce = NP_DAEMON_QUIESCE_AUTO;
    cfg->xen_memory_move = NP_DAEMON_XEN_MOVE_OFF;
    snprintf(cfg->xen_save_dir, sizeof(cfg->xen_save_dir), "%s", NP_DAEMON_XEN_SAVE_DIR);
    snprintf(cfg->libvirt_uri, sizeof(cfg->libvirt_uri), "%s", NP_DAEMON_LIBVIRT_URI);
}

static const char *const backend_names[] = {"auto", "linux", "xen", "libvirt"};
#define NR_BACKEND_NAMES (sizeof(backend_names) / sizeof(backend_names[0]))

const char *np_daemon_backend_name(np_daemon_backend backend)
{
    return (unsigned)backend < NR_BACKEND_NAMES ? backend_names[backend] : "?";
}

int np_daemon_backend_parse(const char *text, np_daemon_backend *out)
{
    for (unsigned i = 0; i < NR_BACKEND_NAMES; i++)
        if (strcmp(text, backend_names[i]) == 0) {
            *out = (np_daemon_backend)i;
            return 0;
        }
    return -EINVAL;
}

static const char *const level_names[] = {"error", "warning", "info", "debug"};

const char *np_log_level_name(np_log_level level)
{
    return (unsigned)level < 4 ? level_names[level] : "?";
}

int np_log_level_parse(const char *text, np_log_level *out)
{
    for (unsigned i = 0; i < 4; i++)
        if (strcmp(text, level_names[i]) == 0) {
            *out = (np_log_level)i;
            return 0;
        }
    return -EINVAL;
}

int np_duration_parse(const char *text, uint64_t *ns_out)
{
    static const struct {
        const char *suffix;
        uint64_t ns;
    } units[] = {{"ns", 1}, {"us", 1000}, {"ms", 1000000}, {"s", 1000000000},
                 {"m", UINT64_C(60000000000)}};
    const char *p = text;
    uint64_t v;
    int rc = np_parse_u64(&p, UINT64_MAX, &v);

    if (rc)
        return rc;
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strcmp(p, units[i].suffix) != 0)
            continue;
        if (v > UINT64_MAX / units[i].ns)
            return -ERANGE;
        *ns_out = v * units[i].ns;
        return 0;
    }
    return -EINVAL;
}

static int parse_bool(const char *v, bool *out)
{
    if (!strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "1") || !strcmp(v, "on"))
        *out = true;
    else if (!strcmp(v, "no") || !strcmp(v, "false") || !strcmp(v, "0") || !strcmp(v, "off"))
        *out = false;
    else
        return -EINVAL;
    return 0;
}

/* Copies v into dst (cap bytes) or fails when it does not fit. */
static int copy_str(char *dst, size_t cap, const char *v)
{
    size_t n = strlen(v);
    if (n == 0 || n >= cap)
        return -EINVAL;
    memcpy(dst, v, n + 1);
    return 0;
}

static int parse_fraction(const char *v, double *out)
{
    /* "0.9" or "90%": digits only, no strtod locale surprises. */
    const char *p = v;
    uint64_t whole, frac = 0, scale = 1;
    if (np_parse_u64(&p, 100, &whole))
        return -EINVAL;
    if (*p == '.') {
        p++;
        while (*p >= '0' && *p <= '9' && scale < UINT64_C(1000000)) {
            frac = frac * 10 + (uint64_t)(*p - '0');
            scale *= 10;
            p++;
        }
    }
    double x = (double)whole + (double)frac / (double)scale;
    if (*p == '%') {
        x /= 100.0;
        p++;
    }
    if (*p || x < 0.0 || x > 1.0)
        return -EINVAL;
    *out = x;
    return 0;
}

/* Keys that choose Linux processes: meaningless with the Xen backend. */
static bool is_linux_key(const char *key)
{
    return !strcmp(key, "discover") || !strcmp(key, "cgroup") || !strcmp(key, "pid");
}

np_daemon_backend np_daemon_backend_resolve(np_daemon_backend want, bool xen_built, bool is_dom0)
{
    if (want != NP_DAEMON_BACKEND_AUTO)
        return want;
    return xen_built && is_dom0 ? NP_DAEMON_BACKEND_XEN : NP_DAEMON_BACKEND_LINUX;
}

static int apply(np_daemon_config *c, const char *key, const char *v, const char **want)
{
    if (!strcmp(key, "period")) {
        uint64_t ns;
        *want = "a duration from 100ms to 1m, such as 2s or 500ms";
        if (np_duration_parse(v, &ns) || ns < NP_DAEMON_PERIOD_MIN_NS || ns > PERIOD_MAX_NS)
            return -EINVAL;
        c->period_ns = ns;
    } else if (!strcmp(key, "dry_run")) {
        *want = "yes or no";
        return parse_bool(v, &c->dry_run);
    } else if (!strcmp(key, "cgroup_cpuset")) {
        *want = "yes or no";
        return parse_bool(v, &c->use_cgroup_cpuset);
    } else if (!strcmp(key, "discover")) {
        *want = "qemu, cgroup or pids";
        if (!strcmp(v, "qemu"))
            c->discover = NP_DISCOVER_QEMU;
        else if (!strcmp(v, "cgroup"))
            c->discover = NP_DISCOVER_CGROUP;
        else if (!strcmp(v, "pids"))
            c->discover = NP_DISCOVER_PIDS;
        else
            return -EINVAL;
    } else if (!strcmp(key, "cgroup")) {
        *want = "an absolute cgroup path such as /machine.slice, without \"..\"";
        if (v[0] != '/' || strstr(v, ".."))
            return -EINVAL;
        return copy_str(c->cgroup, sizeof(c->cgroup), v);
    } else if (!strcmp(key, "pid")) {
        uint64_t pid;
        *want = "a process id from 1 to 4194304 (at most 64 pid lines)";
        if (np_parse_u64_full(v, 4194304, &pid) || pid == 0 || c->nr_pids >= NP_DAEMON_MAX_LIST)
            return -EINVAL;
        c->pids[c->nr_pids++] = (int32_t)pid;
    } else if (!strcmp(key, "exclude")) {
        *want = "a guest name or PID shorter than 128 bytes (at most 64 exclude lines)";
        if (c->nr_excluded >= NP_DAEMON_MAX_LIST)
            return -EINVAL;
        if (copy_str(c->excluded[c->nr_excluded], NP_CTL_GUEST_MAX, v))
            return -EINVAL;
        c->nr_excluded++;
    } else if (!strcmp(key, "socket")) {
        *want = "an absolute path shorter than 108 bytes";
        if (v[0] != '/')
            return -EINVAL;
        return copy_str(c->socket_path, sizeof(c->socket_path), v);
    } else if (!strcmp(key, "socket_group")) {
        *want = "a group name";
        return copy_str(c->socket_group, sizeof(c->socket_group), v);
    } else if (!strcmp(key, "state_file")) {
        *want = "an absolute path shorter than 256 bytes";
        if (v[0] != '/')
            return -EINVAL;
        return copy_str(c->state_path, sizeof(c->state_path), v);
    } else if (!strcmp(key, "log_level")) {
        *want = "error, warning, info or debug";
        return np_log_level_parse(v, &c->log_level);
    } else if (!strcmp(key, "migrate_budget")) {
        uint64_t b;
        *want = "bytes per second with an optional suffix, such as 256M (not 0)";
        if (np_parse_size_bytes(v, &b) || b == 0)
            return -EINVAL;
        c->migrate_budget_bps = b;
    } else if (!strcmp(key, "locality_target")) {
        *want = "a fraction from 0 to 1, such as 0.9 or 90%";
        return parse_fraction(v, &c->locality_target);
    } else if (!strcmp(key, "backend")) {
        *want = "auto, linux, xen or libvirt";
        return np_daemon_backend_parse(v, &c->backend);
    } else if (!strcmp(key, "xen_memory_move")) {
        *want = "off or save-restore";
        if (!strcmp(v, "off"))
            c->xen_memory_move = NP_DAEMON_XEN_MOVE_OFF;
        else if (!strcmp(v, "save-restore"))
            c->xen_memory_move = NP_DAEMON_XEN_MOVE_SAVE_RESTORE;
        else
            return -EINVAL;
    } else if (!strcmp(key, "xen_save_dir")) {
        *want = "an absolute path shorter than 200 bytes";
        /* room for "/<domain name>.save" after it */
        if (v[0] != '/' || strlen(v) >= 200)
            return -EINVAL;
        return copy_str(c->xen_save_dir, sizeof(c->xen_save_dir), v);
    } else if (!strcmp(key, "metrics_listen")) {
        np_metrics_listen l;
        *want = "ADDRESS:PORT with a literal IPv4 or [IPv6] address, such as 127.0.0.1:9464";
        if (np_metrics_listen_parse(v, NULL, &l, NULL))
            return -EINVAL;
        return copy_str(c->metrics_listen, sizeof(c->metrics_listen), v);
    } else if (!strcmp(key, "move_quiesce")) {
        *want = "auto, never or always";
        if (!strcmp(v, "auto"))
            c->move_quiesce = NP_DAEMON_QUIESCE_AUTO;
        else if (!strcmp(v, "never"))
            c->move_quiesce = NP_DAEMON_QUIESCE_NEVER;
        else if (!strcmp(v, "always"))
            c->move_quiesce = NP_DAEMON_QUIESCE_ALWAYS;
        else
            return -EINVAL;
    } else if (!strcmp(key, "libvirt_uri")) {
        *want = "a libvirt connection URI shorter than 256 bytes, such as qemu:///system";
        if (!strstr(v, ":"))
            return -EINVAL;
        return copy_str(c->libvirt_uri, sizeof(c->libvirt_uri), v);
    } else {
        *want = "a key: period, dry_run, discover, cgroup, pid, exclude, socket, socket_group, "
                "state_file, log_level, migrate_budget, locality_target, cgroup_cpuset, "
                "backend, xen_memory_move, xen_save_dir, metrics_listen, libvirt_uri, "
                "move_quiesce";
        return -EINVAL;
    }
    return 0;
}

/* Trims blanks at both ends in place. */
static char *trim(char *s)
{
    s = (char *)np_skip_ws(s);
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
    return s;
}

int np_daemon_config_parse(const char *text, size_t len, const char *origin,
                           np_daemon_config *cfg, np_error *err)
{
    np_line_scanner sc;
    np_daemon_config tmp;
    const char *line;
    char *buf = NULL;
    unsigned lineno = 0;
    int rc, r;

    if (!text || !cfg)
        return -EINVAL;
    tmp = *cfg;
    np_scanner_init(&sc, text, len);
    while ((r = np_scanner_next(&sc, &line)) == 1) {
        lineno++;
        if (sc.too_long || sc.has_nul) {
            rc = np_error_set(err, origin, lineno, "a text line (no NUL, under 64 KiB)");
            goto out;
        }
        free(buf);
        buf = strdup(line);
        if (!buf) {
            rc = -ENOMEM;
            goto out;
        }
        char *hash = strchr(buf, '#');
        if (hash)
            *hash = '\0';
        char *s = trim(buf);
        if (!*s)
            continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            rc = np_error_set(err, origin, lineno, "\"key = value\"");
            goto out;
        }
        *eq = '\0';
        char *key = trim(s), *val = trim(eq + 1);
        const char *want = "a value";
        if (!*val) {
            rc = np_error_set(err, origin, lineno, "a value after \"%.64s =\"", key);
            goto out;
        }
        if (apply(&tmp, key, val, &want)) {
            rc = np_error_set(err, origin, lineno, "%.64s: %s", key, want);
            goto out;
        }
        if (is_linux_key(key) && !tmp.linux_keys_line)
            tmp.linux_keys_line = lineno;
        if (!strcmp(key, "socket_group"))
            tmp.socket_group_line = lineno;
    }
    if (r < 0) {
        rc = r;
        goto out;
    }
    if (tmp.discover == NP_DISCOVER_CGROUP && !tmp.cgroup[0]) {
        rc = np_error_set(err, origin, lineno, "discover = cgroup needs a cgroup = line");
        goto out;
    }
    if (tmp.backend == NP_DAEMON_BACKEND_XEN && tmp.linux_keys_line) {
        rc = np_error_set(err, origin, tmp.linux_keys_line,
                          "no discover, cgroup or pid with backend = xen (they choose Linux "
                          "processes; on Xen every domain but dom0 is a guest)");
        goto out;
    }
    *cfg = tmp;
    rc = 0;
out:
    free(buf);
    np_scanner_fini(&sc);
    return rc;
}
