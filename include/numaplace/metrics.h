/*
 * numaplace/metrics.h - numaplaced's metrics in Prometheus's text
 * exposition format (version 0.0.4), rendered from a snapshot the daemon
 * fills after each round. Pure: no sockets, no clock; the daemon serves the
 * text (docs/metrics.md lists every series).
 *
 * Names follow Prometheus's conventions: a `numaplace_` prefix, base units
 * in the name (`_bytes`, `_seconds`, `_ratio`, `_cpus`), `_total` for
 * counters, `_info` for a gauge of 1 whose labels carry the facts.
 * Node labels are OS ids (the kernel's or Xen's numbering).
 */
#ifndef NUMAPLACE_METRICS_H
#define NUMAPLACE_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <numaplace/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Why a guest's locality is below the target (the label of
 * numaplace_guest_below_target_info). */
typedef enum np_metrics_reason {
    NP_METRICS_AT_TARGET = 0, /* "none": at or above the target */
    NP_METRICS_EXCLUDED,      /* "excluded": the administrator excluded it */
    NP_METRICS_CONFIRMING,    /* "confirming": low for fewer rounds than the balancer waits */
    NP_METRICS_MIGRATING,     /* "migrating": a move toward its home is under way */
    NP_METRICS_UNMOVABLE,     /* "unmovable": what is off home cannot be moved
                                 (file-backed, pinned pages) */
    NP_METRICS_NO_ROOM,       /* "no_room": low, confirmed, nothing planned: no node
                                 has room for it or moving it would cost more */
    NP_METRICS_DRY_RUN,       /* "dry_run": the daemon only reports */
} np_metrics_reason;

const char *np_metrics_reason_name(np_metrics_reason r);

/* What the daemon knows of a guest when classifying it. */
typedef struct np_metrics_reason_in {
    double locality_ratio, target_ratio;
    bool excluded, dry_run, migrating;
    uint32_t low_rounds, confirm_rounds;
    uint64_t settled_bytes; /* off home and unmovable */
} np_metrics_reason_in;
/* The first that applies: at target, excluded, dry run, migrating,
 * unmovable (settled_bytes > 0), confirming (low_rounds < confirm_rounds),
 * no room. */
np_metrics_reason np_metrics_classify(const np_metrics_reason_in *in);

typedef struct np_metrics_guest {
    const char *name;
    uint64_t id;                   /* PID, domid, ... (label "id") */
    double locality_ratio;         /* memory on the node its vCPUs run on */
    const uint64_t *node_mem_bytes; /* one per node of the snapshot, in node order */
    uint64_t moves;                /* moves the daemon made (counter) */
    uint64_t moved_bytes;          /* bytes it moved (counter) */
    np_metrics_reason reason;
    int32_t home_node_os_id;       /* -1: none */
} np_metrics_guest;

typedef struct np_metrics_node {
    uint32_t os_id;
    double cpu_demand_cpus;   /* sum of vCPU demand attributed to it */
    double cpu_capacity_cpus; /* cores + SMT share (numaplace/hoststate.h) */
    uint64_t mem_total_bytes;
    uint64_t mem_free_bytes;
} np_metrics_node;

typedef struct np_metrics_snapshot {
    const char *version;      /* numaplace version (build info) */
    const char *backend;      /* "linux", "xen", "libvirt" */
    double locality_target_ratio;
    uint64_t rounds_total;
    uint64_t errors_total;    /* error-level log lines */
    /* Summaries of every round and every sensing so far (seconds). */
    double round_seconds_sum, sense_seconds_sum;
    uint64_t round_count, sense_count;
    double last_round_seconds, last_sense_seconds;
    const np_metrics_node *nodes;
    size_t nr_nodes;
    const np_metrics_guest *guests;
    size_t nr_guests;
} np_metrics_snapshot;

/* Renders the snapshot as exposition text (malloc'd, NUL-terminated,
 * *len_out without the NUL; free() it). Label values are escaped (\\, \",
 * \n). Families appear once each with HELP and TYPE lines, in a fixed
 * order, so the text is a golden test. */
int np_metrics_render(const np_metrics_snapshot *s, char **text_out, size_t *len_out);

/* Where the metrics listener binds: "ADDR:PORT" with an IPv4 address or a
 * bracketed IPv6 one ("127.0.0.1:9464", "[::1]:9464"), port 1..65535.
 * Only literal addresses (no names to resolve at start). */
typedef struct np_metrics_listen {
    bool ipv6;
    uint8_t addr[16]; /* network order; IPv4 in the first 4 bytes */
    uint16_t port;
} np_metrics_listen;
/* -EINVAL with err (origin, what was expected) for anything else. */
int np_metrics_listen_parse(const char *text, const char *origin, np_metrics_listen *out,
                            np_error *err);
/* A loopback address (127.0.0.0/8, ::1). */
bool np_metrics_listen_is_loopback(const np_metrics_listen *l);

#ifdef __cplusplus
}
#endif
#endif /* NUMAPLACE_METRICS_H */
