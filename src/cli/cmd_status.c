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
    fprintf(out, "usage: numaplace status [--socket PATH | --reply FILE] [--json]\n\n"
                 "Show what numaplaced is doing: its guests, the node each lives on, their\n"
                 "locality as the balancer computes it (each vCPU's node against the memory per\n"
                 "node), memory per node, why a guest below target waits (or its move's\n"
                 "progress), each guest's helper threads (QEMU's emulator and I/O threads, the\n"
                 "vhost workers of its queues: thread id, kind and the CPUs it may run on), and\n"
                 "the recent actions.\n\n"
                 "  --socket PATH  the daemon's control socket (default " NP_CTL_SOCKET_PATH ")\n"
                 "  --reply FILE   show a status reply saved earlier (`status --json > FILE`)\n"
                 "                 instead of asking the daemon\n"
                 "  --json         the daemon's reply as it is\n");
}

/* A reply saved by `status --json`: a JSON object with a "guests" array.
 * Bad input is reported with its file and line (exit 2). */
static int load_reply(const char *path, json_t **out)
{
    json_error_t jerr;
    json_t *r = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (!r) {
        if (jerr.line > 0)
            cli_errorf("status: %s:%d: %s", path, jerr.line, jerr.text);
        else
            cli_errorf("status: %s", jerr.text); /* cannot read it: jansson names the file */
        return NP_EXIT_USAGE;
    }
    if (!json_is_object(r) || !json_is_array(json_object_get(r, "guests"))) {
        cli_errorf("status: %s:1: not a status reply (an object with a \"guests\" array)", path);
        json_decref(r);
        return NP_EXIT_USAGE;
    }
    *out = r;
    return NP_EXIT_OK;
}

/* One line per helper thread under its guest's line. */
static void print_helpers(const json_t *g)
{
    size_t i;
    json_t *h;
    json_array_foreach(json_object_get(g, "helpers"), i, h) {
        const char *kind = json_string_value(json_object_get(h, "kind"));
        const char *comm = json_string_value(json_object_get(h, "comm"));
        const char *cpus = json_string_value(json_object_get(h, "cpus"));
        printf("    %-8s thread %-7lld %-16s CPUs %s\n", kind ? kind : "?",
               (long long)json_integer_value(json_object_get(h, "tid")), comm ? comm : "",
               cpus ? cpus : "unknown");
    }
    json_int_t more = json_integer_value(json_object_get(g, "helpers_more"));
    if (more > 0)
        printf("    and %lld more helper threads\n", (long long)more);
}

static int run(int argc, char **argv)
{
    static const struct option opts[] = {{"socket", required_argument, NULL, 's'},
                                         {"reply", required_argument, NULL, 'r'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *sock = NULL, *reply_path = NULL;
    bool json = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "s:r:jh", opts, NULL)) != -1) {
        switch (c) {
        case 's': sock = optarg; break;
        case 'r': reply_path = optarg; break;
        case 'j': json = true; break;
        case 'h': usage(stdout); return NP_EXIT_OK;
        default: usage(stderr); return NP_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        cli_errorf("status: unexpected argument '%s'", argv[optind]);
        return NP_EXIT_USAGE;
    }
    if (sock && reply_path) {
        cli_errorf("status: --socket and --reply exclude each other");
        return NP_EXIT_USAGE;
    }
    json_t *r = NULL;
    int status;
    if (reply_path) {
        status = load_reply(reply_path, &r);
    } else {
        np_ctl_request req = {.cmd = NP_CTL_STATUS};
        status = cli_ctl_ok(sock ? sock : NP_CTL_SOCKET_PATH, &req, &r);
    }
    if (status)
        return status;
    if (json)
        return cli_print_json(r);
    const char *backend = json_string_value(json_object_get(r, "backend"));
    /* The guest id column: a Xen domid, a libvirt domain id, else a pid. */
    const char *id_col = !backend                        ? "PID"
                         : strcmp(backend, "xen") == 0     ? "DOMID"
                         : strcmp(backend, "libvirt") == 0 ? "ID"
                                                           : "PID";
    printf("numaplaced: %lld rounds, period %lld ms%s%s%s\n",
           (long long)json_integer_value(json_object_get(r, "rounds")),
           (long long)json_integer_value(json_object_get(r, "period_ms")),
           backend ? ", backend " : "", backend ? backend : "",
           json_is_true(json_object_get(r, "dry_run")) ? ", dry run (reports only)" : "");
    printf("%-20s %8s %5s %9s  %-28s %s\n", "GUEST", id_col, "HOME", "LOCALITY",
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
        char hs[64];
        snprintf(hs, sizeof(hs), "%lld", (long long)home);
        /* a guest wider than one node: its home set, "0,2" */
        json_t *set = json_object_get(g, "home_nodes");
        if (json_array_size(set) > 1) {
            size_t k, n = 0;
            json_t *hv;
            hs[0] = '\0';
            json_array_foreach(set, k, hv) {
                int w = snprintf(hs + n, sizeof(hs) - n, "%s%lld", n ? "," : "",
                                 (long long)json_integer_value(hv));
                if (w < 0 || (size_t)w >= sizeof(hs) - n)
                    break;
                n += (size_t)w;
            }
        }
        const char *name = json_string_value(json_object_get(g, "name"));
        const char *reason = json_string_value(json_object_get(g, "reason"));
        printf("%-20s %8lld %5s %8.1f%%  %-28s %s\n", name ? name : "?",
               (long long)json_integer_value(json_object_get(g, "pid")), home < 0 ? "-" : hs,
               100.0 * json_number_value(json_object_get(g, "locality")), mem,
               json_is_true(json_object_get(g, "excluded"))   ? "excluded"
               : reason && reason[0]                          ? reason
               : json_is_true(json_object_get(g, "inflight")) ? "migrating"
                                                              : "ok");
        print_helpers(g);
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
        const char *what = json_string_value(json_object_get(g, "what"));
        printf("  %s UTC  %s\n", when, what ? what : "?");
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
