/*
 * cli/cmd_exclude.c - `numaplace exclude GUEST` and `numaplace include
 * GUEST`: tell numaplaced to leave a guest alone (sensed and reported, never
 * acted on), or to manage it again. The daemon keeps the list in its state
 * file, so it survives a restart. Root only (the daemon checks the peer).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <numaplace/ctl.h>

#include "cli.h"

static void usage_ex(FILE *out, const char *name)
{
    fprintf(out,
            "usage: numaplace %s GUEST [--socket PATH]\n\n"
            "%s: GUEST is a guest's name (QEMU -name, or the process name) or its PID.\n"
            "Only root may do this.\n\n"
            "  --socket PATH  the daemon's control socket (default " NP_CTL_SOCKET_PATH ")\n",
            name,
            strcmp(name, "exclude") == 0
                ? "Tell numaplaced never to touch a guest (it is still sensed and shown)"
                : "Tell numaplaced to manage an excluded guest again");
}

static void usage_exclude(FILE *out)
{
    usage_ex(out, "exclude");
}

static void usage_include(FILE *out)
{
    usage_ex(out, "include");
}

static int run_common(int argc, char **argv, np_ctl_cmd cmd)
{
    static const struct option opts[] = {{"socket", required_argument, NULL, 's'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *sock = NP_CTL_SOCKET_PATH;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "s:h", opts, NULL)) != -1) {
        switch (c) {
        case 's': sock = optarg; break;
        case 'h': usage_ex(stdout, argv[0]); return NP_EXIT_OK;
        default: usage_ex(stderr, argv[0]); return NP_EXIT_USAGE;
        }
    }
    if (optind + 1 != argc) {
        cli_errorf("%s: expected one GUEST", argv[0]);
        return NP_EXIT_USAGE;
    }
    np_ctl_request req = {.cmd = cmd};
    if (strlen(argv[optind]) == 0 || strlen(argv[optind]) >= sizeof(req.guest)) {
        cli_errorf("%s: GUEST must be 1 to %zu bytes", argv[0], sizeof(req.guest) - 1);
        return NP_EXIT_USAGE;
    }
    memcpy(req.guest, argv[optind], strlen(argv[optind]) + 1);
    json_t *r = NULL;
    int status = cli_ctl_ok(sock, &req, &r);
    if (status)
        return status;
    printf("%s %s\n", req.guest, cmd == NP_CTL_EXCLUDE ? "excluded" : "included");
    json_decref(r);
    return NP_EXIT_OK;
}

static int run_exclude(int argc, char **argv)
{
    return run_common(argc, argv, NP_CTL_EXCLUDE);
}

static int run_include(int argc, char **argv)
{
    return run_common(argc, argv, NP_CTL_INCLUDE);
}

const np_cli_cmd np_cmd_exclude = {
    .name = "exclude",
    .summary = "tell numaplaced never to touch a guest",
    .run = run_exclude,
    .usage = usage_exclude,
};

const np_cli_cmd np_cmd_include = {
    .name = "include",
    .summary = "let numaplaced manage an excluded guest again",
    .run = run_include,
    .usage = usage_include,
};
