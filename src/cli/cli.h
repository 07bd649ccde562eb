/*
 * cli/cli.h - shared pieces of the `numaplace` command: the subcommand
 * table, exit statuses, error reporting and output helpers. The command
 * uses only libnumaplace's public headers (as curl's tool uses libcurl).
 */
#ifndef NP_CLI_H
#define NP_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include <numaplace/common.h>
#include <numaplace/topology.h>

/* Exit statuses, documented in the man page. */
enum {
    NP_EXIT_OK = 0,
    NP_EXIT_FAIL = 1,     /* the command ran; the answer is "no" (verify, fits nowhere) */
    NP_EXIT_USAGE = 2,    /* bad command line or bad input file */
    NP_EXIT_INTERNAL = 3, /* out of memory or a system failure */
};

typedef struct np_cli_cmd {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv); /* argv[0] is the subcommand name */
    void (*usage)(FILE *out);
} np_cli_cmd;

extern const np_cli_cmd np_cmd_topology;
extern const np_cli_cmd np_cmd_demo;
extern const np_cli_cmd np_cmd_dom0;
extern const np_cli_cmd np_cmd_place;
extern const np_cli_cmd np_cmd_bench;
extern const np_cli_cmd np_cmd_create;
extern const np_cli_cmd np_cmd_status;
extern const np_cli_cmd np_cmd_verify;
extern const np_cli_cmd np_cmd_migrate;
extern const np_cli_cmd np_cmd_exclude;
extern const np_cli_cmd np_cmd_include;
extern const np_cli_cmd np_cmd_ksm;
extern const np_cli_cmd np_cmd_advise;

/* numaplaced's control socket (cmd_status.c): one request, one JSON reply.
 * cli_ctl_ok prints the error and returns an exit status unless the reply
 * says ok. */
struct np_ctl_request;
int cli_ctl_call(const char *socket_path, const struct np_ctl_request *req, json_t **reply_out);
int cli_ctl_ok(const char *socket_path, const struct np_ctl_request *req, json_t **reply_out);

/* `verify` for Linux guests and processes (cmd_verify_linux.c). */
int cli_verify_linux(int argc, char **argv);
void cli_verify_linux_usage(FILE *out);

/* `create --libvirt` and `verify --libvirt` (cmd_libvirt.c); cli_wants_libvirt
 * says whether the command line asks for them. */
bool cli_wants_libvirt(int argc, char **argv);
int cli_create_libvirt(int argc, char **argv);
int cli_verify_libvirt(int argc, char **argv);
void cli_libvirt_create_usage(FILE *out);
void cli_libvirt_verify_usage(FILE *out);

/* "numaplace: <message>" on stderr. */
void cli_errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints a library error (with origin and line) and maps rc to an exit status. */
int cli_fail(int rc, const np_error *err);
/* Exit status for an rc from the library. */
int cli_exit_status(int rc);

/* Pretty-prints a JSON value followed by a newline; takes the reference. */
int cli_print_json(json_t *value);

/* Opens a topology source, printing the error on failure. */
int cli_open_topology(const char *source, const char *format, np_topology **out);

/* Topology output, shared by `topology` and `demo`. */
void cli_print_topology(FILE *out, const np_topology *topo);
json_t *cli_topology_json(const np_topology *topo);

/* Option values: print "numaplace: OPTION: ..." and return -EINVAL when bad. */
int cli_parse_size(const char *text, const char *option, uint64_t *bytes_out);
int cli_parse_uint(const char *text, const char *option, uint64_t min, uint64_t max,
                   uint64_t *out);

/* Size text such as "1.5 GiB". */
const char *cli_bytes(unsigned long long bytes, char *buf, size_t len);

#ifdef NP_HAVE_XEN
#include <numaplace/xen.h>
/* `numaplace verify`'s check of a plan file against the Xen host; prints
 * the comparison to out and returns NP_EXIT_OK or NP_EXIT_FAIL. */
int cli_xen_check_plan(np_xen *xen, const char *plan_path, FILE *out);
/* libxl's and the Xen backend's log lines on stderr: warnings and errors,
 * everything when opaque is not NULL (-v). For np_xen_open(). */
void cli_xen_log(void *opaque, np_log_level level, const char *subsys, const char *msg);
#endif

#endif
