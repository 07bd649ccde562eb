/*
 * metrics/prometheus.c - numaplaced's metrics as Prometheus exposition text
 * (numaplace/metrics.h), and the listener address they are served on.
 *
 * A scrape every 15-60 s reads a few hundred lines: a host of 8 nodes and
 * 100 guests gives about 100 x (8 + 5) + 8 x 4 lines, some 100 KiB, built
 * in one pass into a growing buffer. The order of families and of series
 * inside them is the snapshot's, so the text is deterministic.
 */
#include <numaplace/metrics.h>

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"
#include "util/text.h"

/* ---- reasons ---------------------------------------------------------------- */

static const char *const reason_names[] = {
    [NP_METRICS_AT_TARGET] = "none",         [NP_METRICS_EXCLUDED] = "excluded",
    [NP_METRICS_CONFIRMING] = "confirming",  [NP_METRICS_MIGRATING] = "migrating",
    [NP_METRICS_UNMOVABLE] = "unmovable",    [NP_METRICS_NO_ROOM] = "no_room",
    [NP_METRICS_DRY_RUN] = "dry_run",
};

const char *np_metrics_reason_name(np_metrics_reason r)
{
    if ((size_t)r >= sizeof(reason_names) / sizeof(reason_names[0]))
        return "unknown";
    return reason_names[r];
}

np_metrics_reason np_metrics_classify(const np_metrics_reason_in *in)
{
    if (in->locality_ratio >= in->target_ratio)
        return NP_METRICS_AT_TARGET;
    if (in->excluded)
        return NP_METRICS_EXCLUDED;
    if (in->dry_run)
        return NP_METRICS_DRY_RUN;
    if (in->migrating)
        return NP_METRICS_MIGRATING;
    if (in->settled_bytes)
        return NP_METRICS_UNMOVABLE;
    if (in->low_rounds < in->confirm_rounds)
        return NP_METRICS_CONFIRMING;
    return NP_METRICS_NO_ROOM;
}

/* ---- the text buffer ---------------------------------------------------------- */

typedef struct tbuf {
    char *p;
    size_t len, cap;
    int rc;
} tbuf;

static void put(tbuf *b, const char *s, size_t n)
{
    if (b->rc)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *q = realloc(b->p, cap);
        if (!q) {
            b->rc = -ENOMEM;
            return;
        }
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void put_str(tbuf *b, const char *s)
{
    put(b, s, strlen(s));
}

static void putf(tbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(tbuf *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->rc = b->rc ? b->rc : -EINVAL;
        return;
    }
    /* Every format here is a name, labels already escaped separately and
     * numbers: far under 512 bytes. */
    put(b, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

/* A label value as the exposition format wants it: \ " and newline escaped. */
static void put_label_value(tbuf *b, const char *v)
{
    for (const char *p = v ? v : ""; *p; p++) {
        if (*p == '\\')
            put_str(b, "\\\\");
        else if (*p == '"')
            put_str(b, "\\\"");
        else if (*p == '\n')
            put_str(b, "\\n");
        else
            put(b, p, 1);
    }
}

static void family(tbuf *b, const char *name, const char *type, const char *help)
{
    putf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A float as Prometheus reads it: shortest round-trip-safe form is not
 * needed, 9 significant digits are (ratios, seconds, CPUs). */
static void put_value(tbuf *b, double v)
{
    putf(b, " %.9g\n", v);
}

static void guest_labels(tbuf *b, const np_metrics_guest *g)
{
    put_str(b, "{guest=\"");
    put_label_value(b, g->name);
    putf(b, "\",id=\"%" PRIu64 "\"", g->id);
}

int np_metrics_render(const np_metrics_snapshot *s, char **text_out, size_t *len_out)
{
    tbuf b = {0};

    family(&b, "numaplace_build_info", "gauge", "numaplaced's version and backend (always 1).");
    put_str(&b, "numaplace_build_info{version=\"");
    put_label_value(&b, s->version);
    put_str(&b, "\",backend=\"");
    put_label_value(&b, s->backend);
    put_str(&b, "\"} 1\n");

    family(&b, "numaplace_locality_target_ratio", "gauge",
           "Share of a guest's memory the daemon wants on the node its vCPUs run on.");
    put_str(&b, "numaplace_locality_target_ratio");
    put_value(&b, s->locality_target_ratio);

    family(&b, "numaplace_rounds_total", "counter", "Sense-decide-act rounds run.");
    putf(&b, "numaplace_rounds_total %" PRIu64 "\n", s->rounds_total);
    family(&b, "numaplace_errors_total", "counter", "Errors the daemon logged.");
    putf(&b, "numaplace_errors_total %" PRIu64 "\n", s->errors_total);

    family(&b, "numaplace_round_duration_seconds", "summary",
           "Time of a whole round: sensing, deciding and acting (migrations included).");
    put_str(&b, "numaplace_round_duration_seconds_sum");
    put_value(&b, s->round_seconds_sum);
    putf(&b, "numaplace_round_duration_seconds_count %" PRIu64 "\n", s->round_count);
    family(&b, "numaplace_last_round_duration_seconds", "gauge", "Time of the last round.");
    put_str(&b, "numaplace_last_round_duration_seconds");
    put_value(&b, s->last_round_seconds);

    family(&b, "numaplace_sense_duration_seconds", "summary",
           "Time to sense the host: topology, guests, their memory per node.");
    put_str(&b, "numaplace_sense_duration_seconds_sum");
    put_value(&b, s->sense_seconds_sum);
    putf(&b, "numaplace_sense_duration_seconds_count %" PRIu64 "\n", s->sense_count);
    family(&b, "numaplace_last_sense_duration_seconds", "gauge", "Time of the last sensing.");
    put_str(&b, "numaplace_last_sense_duration_seconds");
    put_value(&b, s->last_sense_seconds);

    family(&b, "numaplace_node_cpu_demand_cpus", "gauge",
           "CPU demand of the vCPUs that run or prefer to run on the node, in CPUs.");
    for (size_t i = 0; i < s->nr_nodes; i++) {
        putf(&b, "numaplace_node_cpu_demand_cpus{node=\"%u\"}", s->nodes[i].os_id);
        put_value(&b, s->nodes[i].cpu_demand_cpus);
    }
    family(&b, "numaplace_node_cpu_capacity_cpus", "gauge",
           "CPU capacity of the node: cores plus a share of each extra hardware thread.");
    for (size_t i = 0; i < s->nr_nodes; i++) {
        putf(&b, "numaplace_node_cpu_capacity_cpus{node=\"%u\"}", s->nodes[i].os_id);
        put_value(&b, s->nodes[i].cpu_capacity_cpus);
    }
    family(&b, "numaplace_node_memory_total_bytes", "gauge", "Memory of the node.");
    for (size_t i = 0; i < s->nr_nodes; i++)
        putf(&b, "numaplace_node_memory_total_bytes{node=\"%u\"} %" PRIu64 "\n",
             s->nodes[i].os_id, s->nodes[i].mem_total_bytes);
    family(&b, "numaplace_node_memory_free_bytes", "gauge", "Measured free memory of the node.");
    for (size_t i = 0; i < s->nr_nodes; i++)
        putf(&b, "numaplace_node_memory_free_bytes{node=\"%u\"} %" PRIu64 "\n",
             s->nodes[i].os_id, s->nodes[i].mem_free_bytes);

    family(&b, "numaplace_guest_locality_ratio", "gauge",
           "Share of the guest's memory on the node most of its vCPUs last ran on.");
    for (size_t i = 0; i < s->nr_guests; i++) {
        put_str(&b, "numaplace_guest_locality_ratio");
        guest_labels(&b, &s->guests[i]);
        put_str(&b, "}");
        put_value(&b, s->guests[i].locality_ratio);
    }
    family(&b, "numaplace_guest_memory_bytes", "gauge", "Guest memory on each node.");
    for (size_t i = 0; i < s->nr_guests; i++)
        for (size_t n = 0; n < s->nr_nodes; n++) {
            put_str(&b, "numaplace_guest_memory_bytes");
            guest_labels(&b, &s->guests[i]);
            putf(&b, ",node=\"%u\"} %" PRIu64 "\n", s->nodes[n].os_id,
                 s->guests[i].node_mem_bytes ? s->guests[i].node_mem_bytes[n] : 0);
        }
    family(&b, "numaplace_guest_home_node_info", "gauge",
           "The node the daemon keeps the guest on (absent: none chosen yet).");
    for (size_t i = 0; i < s->nr_guests; i++) {
        if (s->guests[i].home_node_os_id < 0)
            continue;
        put_str(&b, "numaplace_guest_home_node_info");
        guest_labels(&b, &s->guests[i]);
        putf(&b, ",node=\"%d\"} 1\n", s->guests[i].home_node_os_id);
    }
    family(&b, "numaplace_guest_moves_total", "counter", "Memory moves the daemon made for the guest.");
    for (size_t i = 0; i < s->nr_guests; i++) {
        put_str(&b, "numaplace_guest_moves_total");
        guest_labels(&b, &s->guests[i]);
        putf(&b, "} %" PRIu64 "\n", s->guests[i].moves);
    }
    family(&b, "numaplace_guest_moved_bytes_total", "counter",
           "Bytes of guest memory the daemon moved between nodes.");
    for (size_t i = 0; i < s->nr_guests; i++) {
        put_str(&b, "numaplace_guest_moved_bytes_total");
        guest_labels(&b, &s->guests[i]);
        putf(&b, "} %" PRIu64 "\n", s->guests[i].moved_bytes);
    }
    family(&b, "numaplace_guest_below_target_info", "gauge",
           "Why the guest's locality is below the target (reason none: it is not).");
    for (size_t i = 0; i < s->nr_guests; i++) {
        put_str(&b, "numaplace_guest_below_target_info");
        guest_labels(&b, &s->guests[i]);
        putf(&b, ",reason=\"%s\"} 1\n", np_metrics_reason_name(s->guests[i].reason));
    }

    if (b.rc) {
        free(b.p);
        return b.rc;
    }
    if (!b.p) { /* cannot happen: build_info is always written */
        free(b.p);
        return -ENOMEM;
    }
    *text_out = b.p;
    if (len_out)
        *len_out = b.len;
    return 0;
}

/* ---- the listener address ------------------------------------------------------ */

int np_metrics_listen_parse(const char *text, const char *origin, np_metrics_listen *out,
                            np_error *err)
{
    char host[64];
    const char *port_text;
    np_metrics_listen l = {0};
    uint64_t port = 0;

    if (!text || !*text)
        return np_error_set(err, origin, 0, "expected ADDRESS:PORT, such as 127.0.0.1:9464");
    if (text[0] == '[') {
        const char *close = strchr(text, ']');
        if (!close || close[1] != ':' || (size_t)(close - text - 1) >= sizeof(host))
            return np_error_set(err, origin, 0,
                                "expected [IPV6]:PORT, such as [::1]:9464, got '%s'", text);
        memcpy(host, text + 1, (size_t)(close - text - 1));
        host[close - text - 1] = '\0';
        port_text = close + 2;
        l.ipv6 = true;
    } else {
        const char *colon = strrchr(text, ':');
        if (!colon || (size_t)(colon - text) >= sizeof(host))
            return np_error_set(err, origin, 0,
                                "expected ADDRESS:PORT, such as 127.0.0.1:9464, got '%s'", text);
        memcpy(host, text, (size_t)(colon - text));
        host[colon - text] = '\0';
        port_text = colon + 1;
    }
    if (inet_pton(l.ipv6 ? AF_INET6 : AF_INET, host, l.addr) != 1)
        return np_error_set(err, origin, 0, "'%s' is not an IPv%c address (a literal address, "
                                            "no host names)",
                            host, l.ipv6 ? '6' : '4');
    if (port_text[0] < '0' || port_text[0] > '9' || np_parse_u64_full(port_text, 65535, &port) < 0 ||
        port == 0)
        return np_error_set(err, origin, 0, "port: expected 1..65535, got '%s'", port_text);
    l.port = (uint16_t)port;
    *out = l;
    return 0;
}

bool np_metrics_listen_is_loopback(const np_metrics_listen *l)
{
    static const uint8_t v6_loop[16] = {[15] = 1};
    if (l->ipv6)
        return memcmp(l->addr, v6_loop, sizeof(v6_loop)) == 0;
    return l->addr[0] == 127;
}
