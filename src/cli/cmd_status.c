/*
 * cli/cmd_status.c - `numaplace status`: what numaplaced is doing (its
 * guests, their nodes, locality, recent actions), asked over the daemon's
 * control socket. Also the socket client the other daemon commands use
 * (cli_ctl_call).
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <numaplace/ctl.h>

#include "cli.h"

/* On Linux numaplaced moves memory in a thread of its own and answers
 * between rounds (a round senses and decides; it no longer moves). Where
 * the backend cannot move concurrently (Xen) it answers between two steps
 * of a migration, and a save/restore move pauses it for the whole move
 * (seconds per 100 MiB); under TCG a single step has taken seconds, so the
 * wait is generous. */
#define CTL_REPLY_TIMEOUT_MS 10000

int cli_ctl_call(const char *socket_path, const np_ctl_request *req, json_t **reply_out)
{
    struct sockaddr_un sa;
    char *line = NULL, *buf = NULL;
    size_t len = 0;
    json_error_t jerr;
    int fd = -1, rc;

    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    if (strlen(socket_path) >= sizeof(sa.sun_path))
        return -ENAMETOOLONG;
    memcpy(sa.sun_path, socket_path, strlen(socket_path) + 1);
    rc = np_ctl_request_format(req, &line);
    if (rc)
        return rc;
    buf = malloc(NP_CTL_REPLY_MAX + 1);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (!buf || fd < 0) {
        rc = buf ? -errno : -ENOMEM;
        goto out;
    }
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        send(fd, line, strlen(line), MSG_NOSIGNAL) < 0) {
        rc = -errno;
        goto out;
    }
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int r = poll(&p, 1, CTL_REPLY_TIMEOUT_MS);
        if (r == 0) {
            rc = -ETIMEDOUT;
            goto out;
        }
        ssize_t n = recv(fd, buf + len, NP_CTL_REPLY_MAX - len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = -errno;
            goto out;
        }
        if (n == 0)
            break;
        len += (size_t)n;
        if (memchr(buf + len - (size_t)n, '\n', (size_t)n))
            break;
        if (len >= NP_CTL_REPLY_MAX) {
            rc = -EFBIG;
            goto out;
        }
    }
    char *nl = memchr(buf, '\n', len);
    *reply_out = json_loadb(buf, nl ? (size_t)(nl - buf) : len, 0, &jerr);
    rc = *reply_out ? 0 : -EPROTO;
out:
    if (fd >= 0)
        close(fd);
    free(line);
    free(buf);
    return rc;
}

/* Calls and reports errors: 0 with an ok reply, else an exit status. */
int cli_ctl_ok(const char *socket_path, const np_ctl_request *req, json_t **reply_out)
{
    json_t *reply = NULL;
    int rc = cli_ctl_call(socket_path, req, &reply);
    if (rc) {
        cli_errorf("%s: cannot talk to numaplaced at %.200s: %s", np_ctl_cmd_name(req->cmd),
                   socket_path, np_strerror(rc));
        return NP_EXIT_INTERNAL;
    }
    if (!json_is_true(json_object_get(reply, "ok"))) {
        const char *e = json_string_value(json_object_get(reply, "error"));
        cli_errorf("%s: numaplaced: %s", np_ctl_cmd_name(req->cmd), e ? e : "refused");
        json_decref(reply);
        return NP_EXIT_FAIL;
    }
    *reply_out = reply;
    return NP_EXIT_OK;
}

static void usage(FILE *out)
{
    fprintf(out, "usage: numaplace status [--socket PATH] [--json]\n\n"
                 "Show what numaplaced is doing: its guests, the node each lives on, their\n"
                 "locality as the balancer computes it (each vCPU's node against the memory per\n"
                 "node), memory per node, why a guest below target waits (or its move's\n"
                 "progress), and the recent actions.\n\n"
                 "  --socket PATH  the daemon's control socket (default " NP_CTL_SOCKET_PATH ")\n"
                 "  --json         the daemon's reply as it is\n");
}

static int run(int argc, char **argv)
{
    static const struct option opts[] = {{"socket", required_argument, NULL, 's'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *sock = NP_CTL_SOCKET_PATH;
    bool json = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "s:jh", opts, NULL)) != -1) {
        switch (c) {
        case 's': sock = optarg; break;
        case 'j': json = true; break;
        case 'h': usage(stdout); return NP_EXIT_OK;
        default: usage(stderr); return NP_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        cli_errorf("status: unexpected argument '%s'", argv[optind]);
        return NP_EXIT_USAGE;
    }
    np_ctl_request req = {.cmd = NP_CTL_STATUS};
    json_t *r = NULL;
    int status = cli_ctl_ok(sock, &req, &r);
    if (status)
        return status;
    if (json)
        return cli_print_json(r);
    const char *backend = json_string_value(json_object_get(r, "backend"));
    bool xen = backend && strcmp(backend, "xen") == 0;
    printf("numaplaced: %lld rounds, period %lld ms%s%s%s\n",
           (long long)json_integer_value(json_object_get(r, "rounds")),
           (long long)json_integer_value(json_object_get(r, "period_ms")),
           backend ? ", backend " : "", backend ? backend : "",
           json_is_true(json_object_get(r, "dry_run")) ? ", dry run (reports only)" : "");
    printf("%-20s %8s %5s %9s  %-28s %s\n", "GUEST", xen ? "DOMID" : "PID", "HOME", "LOCALITY",
           "MEMORY BY NODE", "STATE");
    size_t i;
    json_t *g;
    json_array_foreach(json_object_get(r, "guests"), i, g) {
        char mem[256] = "", b[32];
        size_t off = 0;
        const char *key;
        json_t *v;
        json_object_foreach(json_object_get(g, "mem_by_node"), key, v) {
            int n = snprintf(mem + off, sizeof(mem) - off, "%s%s:%s", off ? " " : "", key,
                             cli_bytes((unsigned long long)json_integer_value(v), b, sizeof(b)));
            if (n < 0 || (size_t)n >= sizeof(mem) - off)
                break;
            off += (size_t)n;
        }
        json_int_t home = json_integer_value(json_object_get(g, "home"));
        char hs[16];
        snprintf(hs, sizeof(hs), "%lld", (long long)home);
        const char *reason = json_string_value(json_object_get(g, "reason"));
        printf("%-20s %8lld %5s %8.1f%%  %-28s %s\n",
               json_string_value(json_object_get(g, "name")),
               (long long)json_integer_value(json_object_get(g, "pid")), home < 0 ? "-" : hs,
               100.0 * json_real_value(json_object_get(g, "locality")), mem,
               json_is_true(json_object_get(g, "excluded"))   ? "excluded"
               : reason && reason[0]                          ? reason
               : json_is_true(json_object_get(g, "inflight")) ? "migrating"
                                                              : "ok");
    }
    json_t *rec = json_object_get(r, "recent");
    if (json_array_size(rec))
        printf("\nrecent actions:\n");
    json_array_foreach(rec, i, g) {
        time_t t = (time_t)json_integer_value(json_object_get(g, "time"));
        struct tm tm;
        char when[32] = "?";
        if (gmtime_r(&t, &tm))
            strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
        printf("  %s UTC  %s\n", when, json_string_value(json_object_get(g, "what")));
    }
    json_decref(r);
    return NP_EXIT_OK;
}

const np_cli_cmd np_cmd_status = {
    .name = "status",
    .summary = "show numaplaced's guests, their nodes, locality and recent actions",
    .run = run,
    .usage = usage,
};
