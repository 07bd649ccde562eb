/*
 * daemon/ctl_server.c - numaplaced's control socket: a UNIX stream socket
 * owned by root, mode 0600 (or 0660 with a configured group that may then
 * read status). Each connection carries one JSON-line request and gets one
 * reply (numaplace/ctl.h). The peer's credentials come from the kernel
 * (SO_PEERCRED), not from the message: commands that change the daemon
 * (exclude, include, reload) are refused unless the peer's uid is 0.
 *
 * The socket has its own thread, and that thread never waits on sensing,
 * deciding or moving. Sensing a guest reads its numa_maps and cmdline,
 * which wait for the guest's mmap_lock while the mover's move_pages holds
 * it (seconds on a loaded host): a socket served by the main loop answered
 * only after that. Here the main thread publishes what status and plan
 * show (ctl_publish: after sensing, after deciding, after a migration
 * step) and the control thread answers from the last published copy. What
 * is live is read live, each under its own lock: the excluded list and the
 * recent actions (state.c), and the bytes a migration has moved so far
 * (the mover thread's progress, so "moving: N%" advances between rounds).
 * exclude/include change the excluded list at once; saving the state and
 * reloading are left to the main thread, woken through an eventfd.
 *
 * No client can stall the control thread or another client. Every
 * connection is non-blocking and served as its bytes arrive, many at once.
 * Each has a deadline for the whole request, not per read: the line must
 * be complete within CTL_REQUEST_TIMEOUT_MS of the connection, and the
 * reply read within CTL_REPLY_TIMEOUT_MS, or the connection is closed. At
 * most CTL_CONN_MAX are open; when one more arrives, the oldest still
 * waiting for its request line is closed to make room (an idle flood
 * cannot keep a new `numaplace status` out).
 *
 * The socket file: an existing path is replaced only when it is a socket
 * (a previous run's, which the socket's lock file proves dead: main.c),
 * never a file or a directory; at exit it is removed only when it is still
 * the socket this process bound (same device and inode).
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "move_worker.h"

/* A local client writes its request at once; 1 s covers a loaded host. */
#define CTL_REQUEST_TIMEOUT_MS 1000u
/* A reply (at most NP_CTL_REPLY_MAX) must be read within this. */
#define CTL_REPLY_TIMEOUT_MS 2000u
/* Connections open at once: 128 (4 KiB of buffer each) covers every
 * member of socket_group polling status at once. */
#define CTL_CONN_MAX 128u
/* Connections accepted in one pass over the listening socket, so that a
 * flood does not keep the loop from the connections already open. */
#define CTL_ACCEPT_BURST 32u
/* The listen() backlog. */
#define CTL_BACKLOG 128

typedef struct ctl_conn {
    int fd; /* -1: slot free */
    uid_t uid;
    uint64_t accepted_ns;
    uint64_t deadline_ns;
    size_t len; /* request bytes read */
    char buf[NP_CTL_REQUEST_MAX + 1];
    char *out; /* reply being written (malloc'd), NULL while reading */
    size_t out_len, out_off;
} ctl_conn;

/* A guest whose memory is on its way home, as last published. Live: the
 * bytes the daemon moved for this move (what its finished jobs moved, as
 * published, plus what its running job has moved by now) of the move's
 * size. Sensing is not used: it may show a guest whose pages are moving
 * as it was before the move. */
typedef struct ctl_moving {
    int64_t pid;
    int32_t home_os_id;
    uint64_t home_nodes_mask;    /* its home set; 0: one node */
    uint64_t total_bytes;        /* the move's size (off home when re-homed) */
    uint64_t moved_at_start_bytes;
    uint64_t harvested_bytes;    /* moved by finished jobs, when published */
} ctl_moving;

struct ctl_server {
    ctl_conn conns[CTL_CONN_MAX];
    dev_t sock_dev; /* the socket file this process bound */
    ino_t sock_ino;
    unsigned long answered; /* requests answered so far (control thread) */
    pthread_t thread;
    bool running;
    int stop_fd; /* eventfd: the control thread ends */
    pthread_mutex_t mu; /* guards what follows: the last publication */
    json_t *snap;       /* status reply without the live parts */
    ctl_moving *moving;
    size_t nr_moving;
};

uint64_t daemon_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * UINT64_C(1000000000) + (uint64_t)ts.tv_nsec;
}

/* What is at path, for a refusal: "a regular file", "a directory", ... */
static const char *file_kind(mode_t m)
{
    return S_ISREG(m)                 ? "a regular file"
           : S_ISDIR(m)               ? "a directory"
           : S_ISLNK(m)               ? "a symbolic link"
           : S_ISFIFO(m)              ? "a FIFO"
           : S_ISCHR(m) || S_ISBLK(m) ? "a device"
                                      : "not a socket";
}

int ctl_listen(daemon_t *d)
{
    struct sockaddr_un sa;
    struct stat st;
    const char *path = d->cfg.socket_path;
    int fd = -1, rc;
    mode_t mode = 0600;

    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(sa.sun_path)) {
        dlog(NP_LOG_ERROR, "control socket %s: longer than %zu bytes", path,
             sizeof(sa.sun_path) - 1);
        return -ENAMETOOLONG;
    }
    memcpy(sa.sun_path, path, strlen(path) + 1);
    d->socket_gid = (gid_t)-1;
    if (d->cfg.socket_group[0]) {
        struct group *gr = getgrnam(d->cfg.socket_group);
        if (!gr) {
            dlog(NP_LOG_ERROR, "%s:%u: socket_group %s: no such group",
                 d->config_path ? d->config_path : NP_DAEMON_CONFIG_PATH, d->cfg.socket_group_line,
                 d->cfg.socket_group);
            return -ENOENT;
        }
        d->socket_gid = gr->gr_gid;
        mode = 0660;
    }
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            dlog(NP_LOG_ERROR,
                 "control socket %s: the path is %s, not a socket; not "
                 "replacing it (choose another path with -s or socket =)",
                 path, file_kind(st.st_mode));
            return -EEXIST;
        }
        /* A socket, and its lock is ours: a previous run's, stale. */
        if (unlink(path) < 0 && errno != ENOENT) {
            rc = -errno;
            dlog(NP_LOG_ERROR, "control socket %s: cannot remove the stale socket: %s", path,
                 strerror(errno));
            return rc;
        }
    } else if (errno != ENOENT) {
        rc = -errno;
        dlog(NP_LOG_ERROR, "control socket %s: %s", path, strerror(errno));
        return rc;
    }
    d->ctl = calloc(1, sizeof(*d->ctl));
    if (!d->ctl)
        return -ENOMEM;
    for (size_t i = 0; i < CTL_CONN_MAX; i++)
        d->ctl->conns[i].fd = -1;
    pthread_mutex_init(&d->ctl->mu, NULL);
    d->ctl->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (d->ctl->stop_fd < 0) {
        rc = -errno;
        dlog(NP_LOG_ERROR, "control socket: eventfd: %s", strerror(errno));
        goto fail;
    }
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        rc = -errno;
        goto fail;
    }
    mode_t old = umask(0177);
    rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
    umask(old);
    if (rc < 0) {
        rc = -errno;
        dlog(NP_LOG_ERROR, "control socket %s: %s", path, strerror(errno));
        goto fail;
    }
    if (lstat(path, &st) < 0 || chmod(path, mode) < 0 ||
        (d->socket_gid != (gid_t)-1 && chown(path, (uid_t)-1, d->socket_gid) < 0) ||
        listen(fd, CTL_BACKLOG) < 0) {
        rc = -errno;
        dlog(NP_LOG_ERROR, "control socket %s: %s", path, strerror(errno));
        unlink(path); /* bound by this process just now */
        goto fail;
    }
    d->ctl->sock_dev = st.st_dev;
    d->ctl->sock_ino = st.st_ino;
    d->listen_fd = fd;
    return 0;
fail:
    if (fd >= 0)
        close(fd);
    if (d->ctl->stop_fd >= 0)
        close(d->ctl->stop_fd);
    pthread_mutex_destroy(&d->ctl->mu);
    free(d->ctl);
    d->ctl = NULL;
    return rc;
}

static void conn_close(ctl_conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    free(c->out);
    c->fd = -1;
    c->out = NULL;
    c->len = c->out_len = c->out_off = 0;
}

void ctl_close(daemon_t *d)
{
    struct stat st;

    if (d->ctl && d->ctl->running) {
        uint64_t one = 1;
        if (write(d->ctl->stop_fd, &one, sizeof(one)) != (ssize_t)sizeof(one))
            dlog(NP_LOG_WARNING, "control thread: cannot ask it to stop: %s", strerror(errno));
        pthread_join(d->ctl->thread, NULL);
        d->ctl->running = false;
    }
    if (d->ctl)
        for (size_t i = 0; i < CTL_CONN_MAX; i++)
            conn_close(&d->ctl->conns[i]);
    if (d->listen_fd >= 0) {
        close(d->listen_fd);
        d->listen_fd = -1;
        /* only the socket this process bound, never what replaced it */
        if (d->ctl && lstat(d->cfg.socket_path, &st) == 0 && S_ISSOCK(st.st_mode) &&
            st.st_dev == d->ctl->sock_dev && st.st_ino == d->ctl->sock_ino)
            unlink(d->cfg.socket_path);
    }
    if (d->ctl) {
        close(d->ctl->stop_fd);
        json_decref(d->ctl->snap);
        free(d->ctl->moving);
        pthread_mutex_destroy(&d->ctl->mu);
    }
    free(d->ctl);
    d->ctl = NULL;
}

/* Writes what the socket takes now; true when the reply is all sent or
 * the peer is gone (the connection is then done). */
static bool conn_flush(ctl_conn *c)
{
    while (c->out_off < c->out_len) {
        ssize_t w =
            send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return false;
        if (w <= 0)
            return true;
        c->out_off += (size_t)w;
    }
    return true;
}

/* Queues text (taken over, malloc'd) as the reply; from now on the
 * connection only writes, within CTL_REPLY_TIMEOUT_MS. */
static void conn_reply(ctl_conn *c, char *text)
{
    free(c->out);
    c->out = text;
    c->out_len = text ? strlen(text) : 0;
    c->out_off = 0;
    c->deadline_ns = daemon_mono_ns() + UINT64_C(1000000) * CTL_REPLY_TIMEOUT_MS;
}

static void reply_error(ctl_conn *c, const char *msg)
{
    char *line = NULL;
    if (np_ctl_error_reply(msg, &line) != 0)
        line = NULL;
    conn_reply(c, line);
}

static void reply_json(ctl_conn *c, json_t *obj)
{
    char *s = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
    char *line = s ? malloc(strlen(s) + 2) : NULL;
    if (!line) {
        reply_error(c, "out of memory");
    } else {
        memcpy(line, s, strlen(s));
        memcpy(line + strlen(s), "\n", 2);
        conn_reply(c, line);
    }
    free(s);
    json_decref(obj);
}

/* Tells the main loop something waits for it (a state to save, a reload). */
static void wake_main(daemon_t *d)
{
    uint64_t one = 1;
    if (d->wake_fd >= 0 && write(d->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
        dlog(NP_LOG_WARNING, "control thread: cannot wake the main loop: %s", strerror(errno));
}

/* "moving: N% of M MiB to node H" (or "to nodes 0,2" for a home set)
 * with the bytes the mover has moved by now. */
static void live_progress(daemon_t *d, json_t *g, const ctl_moving *m)
{
    uint64_t moved = 0, asked = 0;
    char reason[NP_BALANCE_REASON_MAX];

    if (d->worker)
        dworker_progress(d->worker, (uint64_t)m->pid, &moved, &asked);
    moved += m->harvested_bytes;
    uint64_t done = moved > m->moved_at_start_bytes ? moved - m->moved_at_start_bytes : 0;
    dmove_reason(reason, sizeof(reason), done, m->total_bytes, m->home_os_id, m->home_nodes_mask);
    json_object_set_new(g, "reason", json_string(reason));
}

/* The status reply: the last publication with its live parts brought up
 * to date. Never waits for the main thread. */
static json_t *status_reply(daemon_t *d)
{
    struct ctl_server *cs = d->ctl;
    ctl_moving *mv = NULL;
    size_t nr = 0, i;
    json_t *st, *g;

    pthread_mutex_lock(&cs->mu);
    st = cs->snap ? json_deep_copy(cs->snap) : NULL;
    if (cs->nr_moving && (mv = malloc(cs->nr_moving * sizeof(*mv)))) {
        memcpy(mv, cs->moving, cs->nr_moving * sizeof(*mv));
        nr = cs->nr_moving;
    }
    pthread_mutex_unlock(&cs->mu);
    if (!st) {
        free(mv);
        return NULL;
    }
    dstate_status_lists(&d->st, st);
    json_array_foreach(json_object_get(st, "guests"), i, g) {
        json_int_t pid = json_integer_value(json_object_get(g, "pid"));
        for (size_t k = 0; k < nr; k++)
            if (mv[k].pid == (int64_t)pid)
                live_progress(d, g, &mv[k]);
    }
    free(mv);
    return st;
}

int ctl_publish(daemon_t *d)
{
    np_topology *topo = NULL;
    ctl_moving *mv = NULL;
    size_t nr = 0;
    json_t *st = NULL;
    int rc;

    if (!d->ctl)
        return 0;
    rc = np_backend_topology(d->be, &topo);
    if (rc)
        return rc;
    st = dstate_status_json(&d->st, topo);
    if (!st) {
        np_topology_destroy(topo);
        return -ENOMEM;
    }
    json_object_set_new(st, "dry_run", json_boolean(d->cfg.dry_run));
    json_object_set_new(st, "period_ms", json_integer((json_int_t)(d->cfg.period_ns / 1000000)));
    /* guests' "pid" is a process id on Linux, a domid on Xen */
    json_object_set_new(st, "backend", json_string(np_daemon_backend_name(d->backend)));
    mv = calloc(d->st.nr_guests ? d->st.nr_guests : 1, sizeof(*mv));
    if (!mv) {
        np_topology_destroy(topo);
        json_decref(st);
        return -ENOMEM;
    }
    for (size_t i = 0; i < d->st.nr_guests && d->worker; i++) {
        const dguest *g = &d->st.guests[i];
        if (!g->seen || !g->inflight || !g->progress_base || g->home_node_os_id < 0 ||
            !g->move_total_bytes)
            continue;
        mv[nr++] = (ctl_moving){.pid = g->pid, .home_os_id = g->home_node_os_id,
                                .home_nodes_mask = g->home_nodes_mask,
                                .total_bytes = g->move_total_bytes,
                                .moved_at_start_bytes = g->moved_at_start_bytes,
                                .harvested_bytes = g->moved_bytes};
    }
    np_topology_destroy(topo);
    pthread_mutex_lock(&d->ctl->mu);
    json_t *old = d->ctl->snap;
    ctl_moving *old_mv = d->ctl->moving;
    d->ctl->snap = st;
    d->ctl->moving = mv;
    d->ctl->nr_moving = nr;
    pthread_mutex_unlock(&d->ctl->mu);
    json_decref(old);
    free(old_mv);
    return 0;
}

static void handle(daemon_t *d, ctl_conn *c, uid_t uid, const np_ctl_request *req)
{
    if (np_ctl_cmd_mutates(req->cmd) && uid != 0) {
        dlog(NP_LOG_WARNING, "control: %s refused to uid %u (root only)",
             np_ctl_cmd_name(req->cmd), (unsigned)uid);
        reply_error(c, "permission denied: only root may change the daemon");
        return;
    }
    switch (req->cmd) {
    case NP_CTL_PING:
        reply_json(c, json_pack("{s:b, s:s}", "ok", 1, "version", np_version()));
        return;
    case NP_CTL_STATUS:
        reply_json(c, status_reply(d));
        return;
    case NP_CTL_PLAN: {
        json_t *st = status_reply(d), *g;
        size_t i;
        json_array_foreach(json_object_get(st, "guests"), i, g) {
            const char *name = json_string_value(json_object_get(g, "name"));
            json_int_t pid = json_integer_value(json_object_get(g, "pid"));
            char pidtxt[24];
            snprintf(pidtxt, sizeof(pidtxt), "%lld", (long long)pid);
            if (!name || (strcmp(name, req->guest) && strcmp(pidtxt, req->guest)))
                continue;
            reply_json(c, json_pack("{s:b, s:s, s:I, s:O, s:O, s:O, s:O}", "ok", 1, "guest", name,
                                    "pid", pid, "home", json_object_get(g, "home"), "excluded",
                                    json_object_get(g, "excluded"), "inflight",
                                    json_object_get(g, "inflight"), "locality",
                                    json_object_get(g, "locality")));
            json_decref(st);
            return;
        }
        json_decref(st);
        reply_error(c, "no such guest");
        return;
    }
    case NP_CTL_EXCLUDE:
    case NP_CTL_INCLUDE: {
        bool ex = req->cmd == NP_CTL_EXCLUDE;
        int rc = dstate_exclude(&d->st, req->guest, ex);
        if (rc == -ENOENT) {
            reply_error(c, "that guest was not excluded");
            return;
        }
        if (rc) {
            reply_error(c, np_strerror(rc));
            return;
        }
        dlog(NP_LOG_INFO, "guest %s %s by uid %u", req->guest, ex ? "excluded" : "included",
             (unsigned)uid);
        dstate_note(&d->st, "%s %s", req->guest, ex ? "excluded" : "included");
        d->state_dirty = true;
        wake_main(d);
        reply_json(c, json_pack("{s:b}", "ok", 1));
        return;
    }
    case NP_CTL_RELOAD:
        d->reload_asked = true;
        wake_main(d);
        reply_json(c, json_pack("{s:b}", "ok", 1));
        return;
    }
    reply_error(c, "unknown command");
}

/* A request line is complete (or the peer closed): parse and answer it. */
static void conn_request(daemon_t *d, ctl_conn *c)
{
    np_ctl_request req;
    np_error err = {0};
    char *nl = memchr(c->buf, '\n', c->len);
    size_t len = nl ? (size_t)(nl - c->buf) + 1 : c->len;

    c->buf[len] = '\0';
    d->ctl->answered++;
    if (np_ctl_request_parse(c->buf, len, &req, &err)) {
        char msg[600];
        snprintf(msg, sizeof(msg), "bad request: expected %s", err.msg);
        dlog(NP_LOG_WARNING, "control: uid %u: %s", (unsigned)c->uid, msg);
        reply_error(c, msg);
        return;
    }
    dlog(NP_LOG_DEBUG, "control: uid %u: %s", (unsigned)c->uid, np_ctl_cmd_name(req.cmd));
    handle(d, c, c->uid, &req);
}

/* Reads what the peer sent; answers once the line is complete. */
static void conn_read(daemon_t *d, ctl_conn *c)
{
    for (;;) {
        ssize_t n = recv(c->fd, c->buf + c->len, NP_CTL_REQUEST_MAX - c->len, MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n < 0) {
            conn_close(c);
            return;
        }
        if (n == 0) { /* the peer closed: what it sent (maybe nothing) is the request */
            conn_request(d, c);
            return;
        }
        c->len += (size_t)n;
        if (memchr(c->buf + c->len - (size_t)n, '\n', (size_t)n)) {
            conn_request(d, c);
            return;
        }
        if (c->len >= NP_CTL_REQUEST_MAX) {
            dlog(NP_LOG_WARNING, "control: uid %u: request too long", (unsigned)c->uid);
            reply_error(c, "request too long (at most 4095 bytes on one line)");
            return;
        }
    }
}

/* A free slot, making one by closing the oldest connection still waiting
 * for its request when all are taken; NULL when every one is replying. */
static ctl_conn *conn_slot(daemon_t *d)
{
    ctl_conn *oldest = NULL;
    for (size_t i = 0; i < CTL_CONN_MAX; i++) {
        ctl_conn *c = &d->ctl->conns[i];
        if (c->fd < 0)
            return c;
        if (!c->out && (!oldest || c->accepted_ns < oldest->accepted_ns))
            oldest = c;
    }
    if (!oldest)
        return NULL;
    dlog(NP_LOG_WARNING, "control: %u connections open: closing the oldest idle one (uid %u)",
         CTL_CONN_MAX, (unsigned)oldest->uid);
    reply_error(oldest, "the daemon is busy: too many connections");
    conn_flush(oldest);
    conn_close(oldest);
    return oldest;
}

static void accept_some(daemon_t *d)
{
    for (unsigned k = 0; k < CTL_ACCEPT_BURST; k++) {
        struct ucred cred;
        socklen_t cl = sizeof(cred);
        int fd = accept4(d->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0)
            return;
        ctl_conn *c = conn_slot(d);
        if (!c) {
            close(fd);
            continue;
        }
        memset(c, 0, offsetof(ctl_conn, buf));
        c->fd = fd;
        c->out = NULL;
        c->accepted_ns = daemon_mono_ns();
        c->deadline_ns = c->accepted_ns + UINT64_C(1000000) * CTL_REQUEST_TIMEOUT_MS;
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) < 0) {
            reply_error(c, "cannot read peer credentials");
        } else {
            c->uid = cred.uid;
            conn_read(d, c); /* a client that wrote at once is answered at once */
        }
        if (c->fd >= 0 && c->out && conn_flush(c))
            conn_close(c);
    }
}

static size_t ctl_pollfds(const daemon_t *d, struct pollfd *p, size_t cap)
{
    size_t n = 0;
    if (d->listen_fd < 0 || !d->ctl || cap == 0)
        return 0;
    p[n++] = (struct pollfd){.fd = d->listen_fd, .events = POLLIN};
    for (size_t i = 0; i < CTL_CONN_MAX && n < cap; i++) {
        const ctl_conn *c = &d->ctl->conns[i];
        if (c->fd >= 0)
            p[n++] = (struct pollfd){.fd = c->fd, .events = c->out ? POLLOUT : POLLIN};
    }
    return n;
}

static uint64_t ctl_deadline_ns(const daemon_t *d)
{
    uint64_t t = UINT64_MAX;
    for (size_t i = 0; d->ctl && i < CTL_CONN_MAX; i++)
        if (d->ctl->conns[i].fd >= 0 && d->ctl->conns[i].deadline_ns < t)
            t = d->ctl->conns[i].deadline_ns;
    return t;
}

static ctl_conn *conn_by_fd(daemon_t *d, int fd)
{
    for (size_t i = 0; i < CTL_CONN_MAX; i++)
        if (d->ctl->conns[i].fd == fd)
            return &d->ctl->conns[i];
    return NULL;
}

/* Closes the connections past their deadline, telling a reader why. */
static void expire(daemon_t *d)
{
    uint64_t now = daemon_mono_ns();
    for (size_t i = 0; i < CTL_CONN_MAX; i++) {
        ctl_conn *c = &d->ctl->conns[i];
        if (c->fd < 0 || c->deadline_ns > now)
            continue;
        if (!c->out) {
            dlog(NP_LOG_WARNING, "control: uid %u: no complete request within %u ms: closed",
                 (unsigned)c->uid, CTL_REQUEST_TIMEOUT_MS);
            reply_error(c, "timed out waiting for a request line");
            conn_flush(c);
        } else {
            dlog(NP_LOG_WARNING, "control: uid %u: reply not read within %u ms: closed",
                 (unsigned)c->uid, CTL_REPLY_TIMEOUT_MS);
        }
        conn_close(c);
    }
}

static void ctl_process(daemon_t *d, const struct pollfd *p, size_t n)
{
    if (!d->ctl)
        return;
    for (size_t i = 0; i < n; i++) {
        if (!p[i].revents)
            continue;
        if (p[i].fd == d->listen_fd) {
            accept_some(d);
            continue;
        }
        ctl_conn *c = conn_by_fd(d, p[i].fd);
        if (!c)
            continue;
        if (!c->out)
            conn_read(d, c);
        if (c->fd >= 0 && c->out && conn_flush(c))
            conn_close(c);
    }
    expire(d);
}

/* SIGTERM while the main thread is held in the kernel (a round sensing a
 * guest whose pages are moving can wait seconds for them): the stop is not
 * held up by it. The state file is as the main thread last saved it (at
 * the end of the last round: a migration in flight is resumed from there,
 * and the mover takes only pages still on the source node, so nothing
 * moves twice); the socket and the locks are let go and the process ends.
 * Nothing the main thread owns is touched. */
static void stop_now(daemon_t *d)
{
    struct stat st;
    dlog(NP_LOG_WARNING, "stopping while a round is held in the kernel: the state stays as "
                         "saved at the end of the last round");
    if (lstat(d->cfg.socket_path, &st) == 0 && S_ISSOCK(st.st_mode) &&
        st.st_dev == d->ctl->sock_dev && st.st_ino == d->ctl->sock_ino)
        unlink(d->cfg.socket_path);
    if (d->state_lock_fd >= 0)
        close(d->state_lock_fd);
    if (d->sock_lock_fd >= 0)
        close(d->sock_lock_fd);
    dlog(NP_LOG_INFO, "stopped (state saved, socket removed, locks released)");
    _exit(0);
}

static void *ctl_thread(void *arg)
{
    daemon_t *d = arg;
    struct pollfd p[CTL_CONN_MAX + 3];
    uint64_t stop_ns = 0; /* when SIGTERM was seen here */

    for (;;) {
        uint64_t now = daemon_mono_ns(), until = ctl_deadline_ns(d);
        if (stop_ns && now - stop_ns >= DAEMON_STOP_GRACE_NS && !d->stopping)
            stop_now(d);
        if (stop_ns && stop_ns + DAEMON_STOP_GRACE_NS < until)
            until = stop_ns + DAEMON_STOP_GRACE_NS;
        p[0] = (struct pollfd){.fd = d->ctl->stop_fd, .events = POLLIN};
        p[1] = (struct pollfd){.fd = stop_ns ? -1 : daemon_signal_fd(), .events = POLLIN};
        size_t n = 2 + ctl_pollfds(d, p + 2, CTL_CONN_MAX + 1);
        uint64_t wait_ms = until > now ? (until - now + 999999) / 1000000 : 0;
        int r = poll(p, n, (int)(wait_ms > 1000 ? 1000 : wait_ms));
        if (r < 0 && errno != EINTR) {
            dlog(NP_LOG_ERROR, "control thread: poll: %s", strerror(errno));
            break;
        }
        if (r > 0 && p[0].revents)
            break; /* ctl_close */
        if (r > 0 && p[1].revents) {
            /* Read here too: the main thread may be held in a round. */
            if (daemon_should_stop()) {
                stop_ns = daemon_mono_ns();
                dworker_ask_stop(d->worker); /* its batch ends while the round does */
            }
            wake_main(d); /* a SIGHUP read here: the main loop reloads */
        }
        ctl_process(d, p + 2, n - 2);
    }
    return NULL;
}

int ctl_start(daemon_t *d)
{
    sigset_t all, old;
    int r;

    if (!d->ctl)
        return -EINVAL;
    /* Signals stay with the main thread's signalfd. */
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    r = pthread_create(&d->ctl->thread, NULL, ctl_thread, d);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (r) {
        dlog(NP_LOG_ERROR, "control thread: %s", strerror(r));
        return -r;
    }
    d->ctl->running = true;
    return 0;
}
