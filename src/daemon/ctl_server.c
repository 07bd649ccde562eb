/*
 * daemon/ctl_server.c - numaplaced's control socket: a UNIX stream socket
 * owned by root, mode 0600 (or 0660 with a configured group that may then
 * read status). Each connection carries one JSON-line request and gets one
 * reply (numaplace/ctl.h). The peer's credentials come from the kernel
 * (SO_PEERCRED), not from the message: commands that change the daemon
 * (exclude, include, reload) are refused unless the peer's uid is 0.
 *
 * A client cannot stall the daemon: the request must arrive within
 * CTL_READ_TIMEOUT_MS and fit NP_CTL_REQUEST_MAX bytes, or the connection
 * gets an error reply and is closed. Nor does a migration stall the
 * socket: between two migration steps (and while waiting for the budget
 * to allow the next one) round.c calls ctl_serve_until, which answers the
 * connections that arrive meanwhile.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"

/* A local client writes its line at once; 1 s covers a loaded host. */
#define CTL_READ_TIMEOUT_MS 1000
/* Connections ctl_serve_until answers after its deadline (those already
 * waiting): bounded, so a flood of clients cannot hold a migration up. */
#define CTL_SERVE_LATE_MAX 16

int ctl_listen(daemon_t *d)
{
    struct sockaddr_un sa;
    int fd = -1, rc;
    mode_t mode = 0600;

    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    if (strlen(d->cfg.socket_path) >= sizeof(sa.sun_path))
        return -ENAMETOOLONG;
    memcpy(sa.sun_path, d->cfg.socket_path, strlen(d->cfg.socket_path) + 1);
    d->socket_gid = (gid_t)-1;
    if (d->cfg.socket_group[0]) {
        struct group *gr = getgrnam(d->cfg.socket_group);
        if (!gr) {
            dlog(NP_LOG_ERROR, "socket_group %s: no such group", d->cfg.socket_group);
            return -ENOENT;
        }
        d->socket_gid = gr->gr_gid;
        mode = 0660;
    }
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -errno;
    unlink(sa.sun_path); /* a stale socket of a previous run */
    mode_t old = umask(0177);
    rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
    umask(old);
    if (rc < 0 || chmod(sa.sun_path, mode) < 0 ||
        (d->socket_gid != (gid_t)-1 && chown(sa.sun_path, (uid_t)-1, d->socket_gid) < 0) ||
        listen(fd, 16) < 0) {
        rc = -errno;
        close(fd);
        return rc;
    }
    d->listen_fd = fd;
    return 0;
}

void ctl_close(daemon_t *d)
{
    if (d->listen_fd >= 0) {
        close(d->listen_fd);
        unlink(d->cfg.socket_path);
        d->listen_fd = -1;
    }
}

static void send_all(int fd, const char *s)
{
    size_t len = strlen(s), off = 0;
    while (off < len) {
        ssize_t w = send(fd, s + off, len - off, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno == EAGAIN) {
            struct pollfd p = {.fd = fd, .events = POLLOUT};
            if (poll(&p, 1, CTL_READ_TIMEOUT_MS) <= 0)
                return;
            continue;
        }
        if (w <= 0)
            return;
        off += (size_t)w;
    }
}

static void reply_error(int fd, const char *msg)
{
    char *line = NULL;
    if (np_ctl_error_reply(msg, &line) == 0)
        send_all(fd, line);
    free(line);
}

static void reply_json(int fd, json_t *obj)
{
    char *s = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
    if (!s) {
        reply_error(fd, "out of memory");
    } else {
        send_all(fd, s);
        send_all(fd, "\n");
    }
    free(s);
    json_decref(obj);
}

/* Reads one line; 0 and its length, or a message for the error reply. */
static const char *read_request(int fd, char *buf, size_t cap, size_t *len_out)
{
    size_t len = 0;
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int r = poll(&p, 1, CTL_READ_TIMEOUT_MS);
        if (r == 0)
            return "timed out waiting for a request line";
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return "poll failed";
        ssize_t n = recv(fd, buf + len, cap - 1 - len, 0);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n < 0)
            return "read failed";
        if (n == 0)
            break;
        len += (size_t)n;
        if (memchr(buf, '\n', len))
            break;
        if (len >= cap - 1)
            return "request too long (at most 4095 bytes on one line)";
    }
    char *nl = memchr(buf, '\n', len);
    if (nl)
        len = (size_t)(nl - buf) + 1;
    buf[len] = '\0';
    *len_out = len;
    return NULL;
}

static void handle(daemon_t *d, int fd, uid_t uid, const np_ctl_request *req)
{
    if (np_ctl_cmd_mutates(req->cmd) && uid != 0) {
        dlog(NP_LOG_WARNING, "control: %s refused to uid %u (root only)",
             np_ctl_cmd_name(req->cmd), (unsigned)uid);
        reply_error(fd, "permission denied: only root may change the daemon");
        return;
    }
    switch (req->cmd) {
    case NP_CTL_PING:
        reply_json(fd, json_pack("{s:b, s:s}", "ok", 1, "version", np_version()));
        return;
    case NP_CTL_STATUS: {
        np_topology *topo = NULL;
        if (np_backend_topology(d->be, &topo)) {
            reply_error(fd, "no topology");
            return;
        }
        json_t *st = dstate_status_json(&d->st, topo);
        if (st) {
            json_object_set_new(st, "dry_run", json_boolean(d->cfg.dry_run));
            json_object_set_new(st, "period_ms",
                                json_integer((json_int_t)(d->cfg.period_ns / 1000000)));
            /* guests' "pid" is a process id on Linux, a domid on Xen */
            json_object_set_new(st, "backend", json_string(np_daemon_backend_name(d->backend)));
        }
        np_topology_destroy(topo);
        reply_json(fd, st);
        return;
    }
    case NP_CTL_PLAN: {
        for (size_t i = 0; i < d->st.nr_guests; i++) {
            const dguest *g = &d->st.guests[i];
            char pidtxt[24];
            snprintf(pidtxt, sizeof(pidtxt), "%lld", (long long)g->pid);
            if (strcmp(g->name, req->guest) && strcmp(pidtxt, req->guest))
                continue;
            reply_json(fd, json_pack("{s:b, s:s, s:I, s:i, s:b, s:b, s:f}", "ok", 1, "guest",
                                     g->name, "pid", (json_int_t)g->pid, "home",
                                     g->home_node_os_id, "excluded",
                                     dstate_is_excluded(&d->st, g->name, g->pid), "inflight",
                                     g->inflight, "locality", g->locality));
            return;
        }
        reply_error(fd, "no such guest");
        return;
    }
    case NP_CTL_EXCLUDE:
    case NP_CTL_INCLUDE: {
        bool ex = req->cmd == NP_CTL_EXCLUDE;
        int rc = dstate_exclude(&d->st, req->guest, ex);
        if (rc == -ENOENT) {
            reply_error(fd, "that guest was not excluded");
            return;
        }
        if (rc) {
            reply_error(fd, np_strerror(rc));
            return;
        }
        dlog(NP_LOG_INFO, "guest %s %s by uid %u", req->guest, ex ? "excluded" : "included",
             (unsigned)uid);
        dstate_note(&d->st, "%s %s", req->guest, ex ? "excluded" : "included");
        d->state_dirty = true;
        reply_json(fd, json_pack("{s:b}", "ok", 1));
        return;
    }
    case NP_CTL_RELOAD:
        d->reload_asked = true;
        reply_json(fd, json_pack("{s:b}", "ok", 1));
        return;
    }
    reply_error(fd, "unknown command");
}

void ctl_serve_one(daemon_t *d)
{
    char buf[NP_CTL_REQUEST_MAX + 1];
    struct ucred cred;
    socklen_t cl = sizeof(cred);
    np_ctl_request req;
    np_error err = {0};
    size_t len = 0;
    int fd;

    fd = accept4(d->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0)
        return;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) < 0) {
        reply_error(fd, "cannot read peer credentials");
        goto out;
    }
    const char *why = read_request(fd, buf, sizeof(buf), &len);
    if (why) {
        dlog(NP_LOG_WARNING, "control: uid %u: %s", (unsigned)cred.uid, why);
        reply_error(fd, why);
        goto out;
    }
    if (np_ctl_request_parse(buf, len, &req, &err)) {
        char msg[600];
        snprintf(msg, sizeof(msg), "bad request: expected %s", err.msg);
        dlog(NP_LOG_WARNING, "control: uid %u: %s", (unsigned)cred.uid, msg);
        reply_error(fd, msg);
        goto out;
    }
    dlog(NP_LOG_DEBUG, "control: uid %u: %s", (unsigned)cred.uid, np_ctl_cmd_name(req.cmd));
    handle(d, fd, cred.uid, &req);
out:
    close(fd);
}

uint64_t daemon_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * UINT64_C(1000000000) + (uint64_t)ts.tv_nsec;
}

int ctl_serve_until(daemon_t *d, uint64_t deadline_ns)
{
    int served = 0, late = 0;

    if (d->listen_fd < 0)
        return 0;
    for (;;) {
        uint64_t now = daemon_mono_ns();
        uint64_t wait_ms = deadline_ns > now ? (deadline_ns - now + 999999) / 1000000 : 0;
        struct pollfd p = {.fd = d->listen_fd, .events = POLLIN};
        int r = poll(&p, 1, (int)(wait_ms > 60000 ? 60000 : wait_ms));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0 || !(p.revents & POLLIN)) {
            if (r < 0 || daemon_mono_ns() >= deadline_ns)
                return served;
            continue;
        }
        if (daemon_mono_ns() >= deadline_ns && ++late > CTL_SERVE_LATE_MAX)
            return served;
        ctl_serve_one(d);
        served++;
    }
}
