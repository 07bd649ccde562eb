/*
 * daemon/state.c - what numaplaced remembers across rounds and across its
 * own restarts: per guest its home node, the bytes moved and any
 * migration in flight; the guests excluded at run time; the recent
 * actions; and the balancer's own state (np_balance_state_save: each
 * guest's low-locality streak, last move and pending bytes). Saved with
 * np_write_file_atomic, so a crash leaves either the old or the new state,
 * never half of one.
 *
 * Why a restart moves nothing twice: a resumed in-flight migration asks the
 * mover for pages still on the source node only, and the balancer's
 * hold-off (its last move of the guest) survives, so the new process does
 * not re-decide a move the old one already made. Times are CLOCK_MONOTONIC, which a daemon restart
 * does not reset (a reboot does: then every process is new anyway).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"

#define STATE_VERSION 1
#define STATE_MAX_BYTES (8u << 20)

/* The excluded list and the recent actions are shared with the control
 * thread (ctl_server.c: exclude/include, status): this lock guards them.
 * Everything else in a dstate belongs to the main thread. */
static pthread_mutex_t lists_mu = PTHREAD_MUTEX_INITIALIZER;

void dstate_fini(dstate *s)
{
    for (size_t i = 0; i < s->nr_guests; i++)
        free(s->guests[i].mem_by_node_idx);
    free(s->guests);
    free(s->excluded);
    memset(s, 0, sizeof(*s));
}

dguest *dstate_guest(dstate *s, const char *name, int64_t pid, bool create)
{
    for (size_t i = 0; i < s->nr_guests; i++)
        if (s->guests[i].pid == pid && strcmp(s->guests[i].name, name) == 0)
            return &s->guests[i];
    if (!create)
        return NULL;
    if (s->nr_guests == s->cap_guests) {
        size_t cap = s->cap_guests ? 2 * s->cap_guests : 16;
        dguest *n = realloc(s->guests, cap * sizeof(*n));
        if (!n)
            return NULL;
        s->guests = n;
        s->cap_guests = cap;
    }
    dguest *g = &s->guests[s->nr_guests++];
    memset(g, 0, sizeof(*g));
    snprintf(g->name, sizeof(g->name), "%s", name);
    g->pid = pid;
    g->home_node_os_id = -1;
    return g;
}

static bool is_excluded_locked(const dstate *s, const char *name, int64_t pid)
{
    char pidtxt[24];
    snprintf(pidtxt, sizeof(pidtxt), "%lld", (long long)pid);
    for (size_t i = 0; i < s->nr_excluded; i++)
        if (strcmp(s->excluded[i], name) == 0 || strcmp(s->excluded[i], pidtxt) == 0)
            return true;
    return false;
}

bool dstate_is_excluded(const dstate *s, const char *name, int64_t pid)
{
    pthread_mutex_lock(&lists_mu);
    bool ex = is_excluded_locked(s, name, pid);
    pthread_mutex_unlock(&lists_mu);
    return ex;
}

static int exclude_locked(dstate *s, const char *name, bool exclude)
{
    size_t i;
    for (i = 0; i < s->nr_excluded && strcmp(s->excluded[i], name) != 0; i++)
        ;
    if (!exclude) {
        if (i == s->nr_excluded)
            return -ENOENT;
        memmove(&s->excluded[i], &s->excluded[i + 1],
                (s->nr_excluded - i - 1) * sizeof(s->excluded[0]));
        s->nr_excluded--;
        return 0;
    }
    if (i < s->nr_excluded)
        return 0;
    if (s->nr_excluded == s->cap_excluded) {
        size_t cap = s->cap_excluded ? 2 * s->cap_excluded : 8;
        char(*n)[NP_CTL_GUEST_MAX] = realloc(s->excluded, cap * sizeof(*n));
        if (!n)
            return -ENOMEM;
        s->excluded = n;
        s->cap_excluded = cap;
    }
    snprintf(s->excluded[s->nr_excluded++], NP_CTL_GUEST_MAX, "%s", name);
    return 0;
}

int dstate_exclude(dstate *s, const char *name, bool exclude)
{
    pthread_mutex_lock(&lists_mu);
    int rc = exclude_locked(s, name, exclude);
    pthread_mutex_unlock(&lists_mu);
    return rc;
}

void dstate_note(dstate *s, const char *fmt, ...)
{
    char text[sizeof(s->recent[0].text)];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&lists_mu);
    drecent *r = &s->recent[s->recent_head];
    memcpy(r->text, text, sizeof(text));
    r->wall_s = (uint64_t)time(NULL);
    s->recent_head = (s->recent_head + 1) % DAEMON_RECENT_MAX;
    if (s->nr_recent < DAEMON_RECENT_MAX)
        s->nr_recent++;
    pthread_mutex_unlock(&lists_mu);
}

void dstate_forget(dstate *s, dguest *g)
{
    size_t i = (size_t)(g - s->guests);
    free(g->mem_by_node_idx);
    memmove(&s->guests[i], &s->guests[i + 1], (s->nr_guests - i - 1) * sizeof(*g));
    s->nr_guests--;
}

bool dstate_first_exit(dstate *s, const char *name, int64_t pid, uint64_t start_ticks)
{
    for (size_t i = 0; i < DAEMON_EXITED_MAX; i++) {
        const dexited *e = &s->exited[i];
        if (e->name[0] && e->pid == pid && e->start_ticks == start_ticks &&
            strcmp(e->name, name) == 0)
            return false;
    }
    dexited *e = &s->exited[s->exited_head];
    e->pid = pid;
    e->start_ticks = start_ticks;
    snprintf(e->name, sizeof(e->name), "%s", name[0] ? name : "?");
    s->exited_head = (s->exited_head + 1) % DAEMON_EXITED_MAX;
    return true;
}

/* The caller holds lists_mu. */
static json_t *excluded_json(const dstate *s)
{
    json_t *ex = json_array();
    for (size_t i = 0; ex && i < s->nr_excluded; i++)
        json_array_append_new(ex, json_string(s->excluded[i]));
    return ex;
}

/* The caller holds lists_mu. */
static json_t *recent_json(const dstate *s)
{
    json_t *a = json_array();
    for (size_t k = 0; a && k < s->nr_recent; k++) {
        size_t i = (s->recent_head + DAEMON_RECENT_MAX - s->nr_recent + k) % DAEMON_RECENT_MAX;
        json_array_append_new(a, json_pack("{s:I, s:s}", "time", (json_int_t)s->recent[i].wall_s,
                                           "what", s->recent[i].text));
    }
    return a;
}

/* Node os ids of a set as a JSON array. */
static json_t *nodes_json(uint64_t os_mask)
{
    json_t *a = json_array();
    for (unsigned k = 0; a && k < 64; k++)
        if (os_mask >> k & 1)
            json_array_append_new(a, json_integer(k));
    return a;
}

/* The set a JSON array of node os ids stands for (ids outside 0-63 left out). */
static uint64_t nodes_from_json(const json_t *a)
{
    uint64_t mask = 0;
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v) {
        json_int_t k = json_integer_value(v);
        if (json_is_integer(v) && k >= 0 && k < 64)
            mask |= UINT64_C(1) << k;
    }
    return mask;
}

static int lowest_node(uint64_t os_mask)
{
    for (int k = 0; k < 64; k++)
        if (os_mask >> k & 1)
            return k;
    return -1;
}

/* A migration in flight: "from" (its lowest source, as older files have
 * it) and "from_nodes" (every node it took memory off). */
static json_t *inflight_json(const dguest *g)
{
    json_t *o = json_pack("{s:i, s:i, s:I}", "from", lowest_node(g->inflight_from_mask), "to",
                          g->home_node_os_id, "left_bytes", (json_int_t)g->inflight_left_bytes);
    if (o && g->inflight_from_mask)
        json_object_set_new(o, "from_nodes", nodes_json(g->inflight_from_mask));
    return o;
}

const char *dnodes_list(uint64_t os_mask, char *buf, size_t len)
{
    size_t n = 0;
    buf[0] = '\0';
    if (!os_mask)
        snprintf(buf, len, "?");
    for (unsigned k = 0; k < 64 && n < len; k++)
        if (os_mask >> k & 1)
            n += (size_t)snprintf(buf + n, len - n, "%s%u", n ? "," : "", k);
    return buf;
}

const char *dnodes_text(uint64_t os_mask, char *buf, size_t len)
{
    char list[80];
    snprintf(buf, len, "node%s %s", os_mask & (os_mask - 1) ? "s" : "",
             dnodes_list(os_mask, list, sizeof(list)));
    return buf;
}

uint64_t dguest_home_set(int32_t home_os_id, uint64_t home_nodes_mask)
{
    if (home_nodes_mask)
        return home_nodes_mask;
    return home_os_id >= 0 && home_os_id < 64 ? UINT64_C(1) << home_os_id : 0;
}

void dmove_reason(char *buf, size_t len, uint64_t done_bytes, uint64_t total_bytes,
                  int32_t home_os_id, uint64_t home_nodes_mask)
{
    char to[96];
    if (done_bytes > total_bytes)
        done_bytes = total_bytes;
    double pct = total_bytes ? 100.0 * (double)done_bytes / (double)total_bytes : 0;
    uint64_t set = dguest_home_set(home_os_id, home_nodes_mask);
    if (set)
        dnodes_text(set, to, sizeof(to));
    else
        snprintf(to, sizeof(to), "node %d", (int)home_os_id);
    snprintf(buf, len, "moving: %.0f%% of %.0f MiB to %s", pct,
             (double)total_bytes / (1024.0 * 1024.0), to);
}

int dstate_save(const dstate *s, const np_balance_state *bal, const char *path)
{
    json_t *root = NULL, *gs = NULL, *ex = NULL;
    char *text = NULL;
    int rc;

    gs = json_array();
    rc = -ENOMEM;
    if (!gs)
        goto out;
    for (size_t i = 0; i < s->nr_guests; i++) {
        const dguest *g = &s->guests[i];
        json_t *o = json_pack("{s:s, s:I, s:i, s:I}", "name", g->name, "pid",
                              (json_int_t)g->pid, "home", g->home_node_os_id, "moved_bytes",
                              (json_int_t)g->moved_bytes);
        if (o && g->instance)
            json_object_set_new(o, "instance", json_integer((json_int_t)g->instance));
        if (o && g->inflight)
            json_object_set_new(o, "inflight", inflight_json(g));
        if (!o || json_array_append_new(gs, o))
            goto out;
    }
    pthread_mutex_lock(&lists_mu);
    ex = excluded_json(s);
    root = json_pack("{s:i, s:I, s:o, s:o, s:o}", "version", STATE_VERSION, "rounds",
                     (json_int_t)s->rounds, "guests", gs, "excluded", ex, "recent",
                     recent_json(s));
    pthread_mutex_unlock(&lists_mu);
    gs = ex = NULL;
    if (!root)
        goto out;
    if (bal) {
        char *bj = NULL;
        json_error_t jerr;
        if (np_balance_state_save(bal, &bj) == 0)
            json_object_set_new(root, "balance", json_loads(bj, 0, &jerr));
        free(bj);
    }
    text = json_dumps(root, JSON_INDENT(1));
    if (!text)
        goto out;
    rc = np_write_file_atomic(path, text, strlen(text), 0600);
out:
    free(text);
    json_decref(gs);
    json_decref(ex);
    json_decref(root);
    return rc;
}

int daemon_read_fd(int fd, size_t max_bytes, char **buf_out, size_t *len_out)
{
    size_t len = 0, cap = 0;
    char *buf = NULL;

    for (;;) {
        if (len + 1 >= cap) {
            size_t ncap = cap ? cap * 2 : 4096;
            char *n;
            if (cap > max_bytes) {
                free(buf);
                return -EFBIG;
            }
            n = realloc(buf, ncap);
            if (!n) {
                free(buf);
                return -ENOMEM;
            }
            buf = n;
            cap = ncap;
        }
        ssize_t r = read(fd, buf + len, cap - 1 - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int rc = -errno;
            free(buf);
            return rc;
        }
        if (r == 0)
            break;
        len += (size_t)r;
        if (len > max_bytes) {
            free(buf);
            return -EFBIG;
        }
    }
    buf[len] = '\0';
    *buf_out = buf;
    *len_out = len;
    return 0;
}

/* The exclusions of a state file whose other parts are bad: an excluded
 * guest must not become managed because its neighbour's entry is broken. */
static void salvage_exclusions(dstate *s, json_t *root)
{
    json_t *ex = json_is_object(root) ? json_object_get(root, "excluded") : NULL;
    json_t *v;
    size_t i;
    json_array_foreach(ex, i, v)
    {
        if (json_is_string(v) && json_string_length(v) > 0 &&
            json_string_length(v) < NP_CTL_GUEST_MAX)
            dstate_exclude(s, json_string_value(v), true);
    }
}

int dstate_load(dstate *s, const char *path, np_error *err, np_balance_state **bal_out)
{
    json_error_t jerr;
    json_t *root, *gs, *ex, *g, *v;
    struct stat st;
    char *text = NULL;
    size_t len = 0, i;
    int fd, rc;

    *bal_out = NULL;
    snprintf(err->origin, sizeof(err->origin), "%s", path);
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        rc = -errno;
        if (rc == -ENOENT)
            return rc;
        snprintf(err->msg, sizeof(err->msg), "cannot open it: %s", strerror(-rc));
        return rc;
    }
    if (fstat(fd, &st) < 0) {
        rc = -errno;
        snprintf(err->msg, sizeof(err->msg), "cannot stat it: %s", strerror(-rc));
        close(fd);
        return rc;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = S_ISDIR(st.st_mode) ? -EISDIR : -EBADF;
        snprintf(err->msg, sizeof(err->msg), "%s",
                 S_ISDIR(st.st_mode) ? "is a directory, not a state file (state_file = or -S "
                                       "names the file itself)"
                                     : "is not a regular file");
        close(fd);
        return rc;
    }
    rc = daemon_read_fd(fd, STATE_MAX_BYTES, &text, &len);
    close(fd);
    if (rc == -EFBIG) {
        snprintf(err->msg, sizeof(err->msg), "larger than %u MiB", STATE_MAX_BYTES >> 20);
        return -EINVAL;
    }
    if (rc) {
        snprintf(err->msg, sizeof(err->msg), "cannot read it: %s", strerror(-rc));
        return rc;
    }
    root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    free(text);
    if (!root) {
        err->line = (unsigned)(jerr.line > 0 ? jerr.line : 0);
        snprintf(err->msg, sizeof(err->msg), "expected a JSON state file (%s)", jerr.text);
        return -EINVAL;
    }
    json_t *ver = json_is_object(root) ? json_object_get(root, "version") : NULL;
    if (json_is_integer(ver) && json_integer_value(ver) > STATE_VERSION) {
        snprintf(err->msg, sizeof(err->msg),
                 "written by a newer numaplaced (state version %lld; this one reads version "
                 "%d)",
                 (long long)json_integer_value(ver), STATE_VERSION);
        json_decref(root);
        return -EPROTONOSUPPORT;
    }
    gs = json_object_get(root, "guests");
    ex = json_object_get(root, "excluded");
    if (!json_is_integer(ver) || json_integer_value(ver) != STATE_VERSION || !json_is_array(gs) ||
        !json_is_array(ex)) {
        snprintf(err->msg, sizeof(err->msg),
                 "expected a version %d state object with \"guests\" and \"excluded\" arrays",
                 STATE_VERSION);
        salvage_exclusions(s, root);
        json_decref(root);
        return -EINVAL;
    }
    s->rounds = (uint64_t)json_integer_value(json_object_get(root, "rounds"));
    json_array_foreach(ex, i, v) {
        if (json_is_string(v) && json_string_length(v) < NP_CTL_GUEST_MAX)
            dstate_exclude(s, json_string_value(v), true);
    }
    json_array_foreach(gs, i, g) {
        const char *name = json_string_value(json_object_get(g, "name"));
        json_int_t pid = json_integer_value(json_object_get(g, "pid"));
        if (!name || strlen(name) >= NP_CTL_GUEST_MAX || pid <= 0)
            continue;
        dguest *d = dstate_guest(s, name, pid, true);
        if (!d)
            break;
        d->home_node_os_id = (int32_t)json_integer_value(json_object_get(g, "home"));
        d->moved_bytes = (uint64_t)json_integer_value(json_object_get(g, "moved_bytes"));
        d->instance = (uint64_t)json_integer_value(json_object_get(g, "instance"));
        json_t *inf = json_object_get(g, "inflight");
        if (json_is_object(inf)) {
            d->inflight = true;
            json_int_t from = json_integer_value(json_object_get(inf, "from"));
            d->inflight_from_mask = nodes_from_json(json_object_get(inf, "from_nodes"));
            if (!d->inflight_from_mask && from >= 0 && from < 64)
                d->inflight_from_mask = UINT64_C(1) << from; /* a file without from_nodes */
            d->inflight_left_bytes =
                (uint64_t)json_integer_value(json_object_get(inf, "left_bytes"));
        }
    }
    *bal_out = NULL;
    json_t *bal = json_object_get(root, "balance");
    if (json_is_object(bal)) {
        char *bj = json_dumps(bal, JSON_COMPACT);
        if (bj && np_balance_state_load(bj, strlen(bj), path, bal_out, err) != 0)
            *bal_out = NULL; /* a bad balancer state starts afresh */
        free(bj);
    }
    json_t *rec = json_object_get(root, "recent");
    json_array_foreach(rec, i, v) {
        const char *what = json_string_value(json_object_get(v, "what"));
        if (what)
            dstate_note(s, "%s", what);
    }
    json_decref(root);
    return 0;
}

/* The guest's helper threads: tid, kind, name and the CPUs they may run on
 * ("cpus" absent when the affinity could not be read). */
static json_t *helpers_json(const dguest *g)
{
    json_t *list = json_array();
    for (uint32_t i = 0; list && i < g->nr_helpers; i++) {
        const dhelper *h = &g->helpers[i];
        json_t *o = json_pack("{s:i, s:s, s:s}", "tid", (int)h->tid, "kind", h->kind, "comm",
                              h->comm);
        if (o && h->cpus[0])
            json_object_set_new(o, "cpus", json_string(h->cpus));
        json_array_append_new(list, o);
    }
    return list;
}

json_t *dstate_status_json(const dstate *s, const np_topology *topo)
{
    json_t *gs = json_array();
    for (size_t i = 0; gs && i < s->nr_guests; i++) {
        const dguest *g = &s->guests[i];
        if (!g->seen)
            continue;
        json_t *mem = json_object();
        for (size_t k = 0; mem && k < g->nr_nodes; k++) {
            char key[16];
            snprintf(key, sizeof(key), "%u", np_topology_node(topo, k)->os_id);
            json_object_set_new(mem, key, json_integer((json_int_t)g->mem_by_node_idx[k]));
        }
        json_t *o = json_pack("{s:s, s:I, s:i, s:f, s:I, s:o, s:i, s:b, s:b, s:I}", "name", g->name,
                          "pid", (json_int_t)g->pid, "home", g->home_node_os_id, "locality",
                          g->locality, "total_bytes", (json_int_t)g->total_bytes, "mem_by_node",
                          mem, "vcpus", (int)g->nr_vcpus, "excluded",
                          false, "inflight", g->inflight,
                          "moved_bytes", (json_int_t)g->moved_bytes);
        if (o && g->home_nodes_mask & (g->home_nodes_mask - 1))
            json_object_set_new(o, "home_nodes", nodes_json(g->home_nodes_mask));
        if (o && g->reason[0])
            json_object_set_new(o, "reason", json_string(g->reason));
        if (o && g->nr_helpers_found)
            json_object_set_new(o, "helpers", helpers_json(g));
        if (o && g->nr_helpers_found > g->nr_helpers) /* beyond DAEMON_HELPERS_MAX */
            json_object_set_new(o, "helpers_more",
                                json_integer(g->nr_helpers_found - g->nr_helpers));
        json_array_append_new(gs, o);
    }
    json_t *st = json_pack("{s:b, s:I, s:o}", "ok", 1, "rounds", (json_int_t)s->rounds,
                           "guests", gs);
    dstate_status_lists(s, st);
    return st;
}

void dstate_status_lists(const dstate *s, json_t *status)
{
    json_t *gs = json_object_get(status, "guests");
    size_t i;
    json_t *g;

    pthread_mutex_lock(&lists_mu);
    json_array_foreach(gs, i, g) {
        const char *name = json_string_value(json_object_get(g, "name"));
        json_int_t pid = json_integer_value(json_object_get(g, "pid"));
        json_object_set_new(g, "excluded",
                            json_boolean(name && is_excluded_locked(s, name, (int64_t)pid)));
    }
    json_object_set_new(status, "excluded", excluded_json(s));
    json_object_set_new(status, "recent", recent_json(s));
    pthread_mutex_unlock(&lists_mu);
}

int dstate_move_aside(const char *path, char *moved_to, size_t cap)
{
    char when[32] = "";
    time_t now = time(NULL);
    struct tm tm;
    struct stat st;

    if (gmtime_r(&now, &tm))
        strftime(when, sizeof(when), "%Y%m%dT%H%M%SZ", &tm);
    for (unsigned k = 0; k < 100; k++) {
        int n = k ? snprintf(moved_to, cap, "%s.bad-%s-%u", path, when, k)
                  : snprintf(moved_to, cap, "%s.bad-%s", path, when);
        if (n < 0 || (size_t)n >= cap)
            return -ENAMETOOLONG;
        if (lstat(moved_to, &st) == 0)
            continue; /* never replace an earlier one */
        if (rename(path, moved_to) < 0)
            return -errno;
        return 0;
    }
    return -EEXIST;
}

int daemon_save(daemon_t *d)
{
    int rc = dstate_save(&d->st, d->bal, d->cfg.state_path);
    if (rc)
        dlog(NP_LOG_WARNING, "cannot save the state to %s: %s", d->cfg.state_path, np_strerror(rc));
    return rc;
}
