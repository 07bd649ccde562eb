/*
 * daemon/metrics.c - numaplaced's Prometheus listener (metrics_listen =
 * ADDRESS:PORT; off by default). docs/metrics.md lists the series.
 *
 * libmicrohttpd serves GET /metrics from its own thread. The daemon's state
 * belongs to the main thread, so the text is rendered there after every
 * round (np_metrics_render, from what the round sensed and decided) and
 * swapped into a buffer under a mutex; a scrape copies the last text. A
 * scrape therefore never senses the host and never waits for a round:
 * what it reads is at most one period old.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include <numaplace/metrics.h>

#include "daemon.h"

#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"
/* Connections served at once: Prometheus scrapes with one; a few more let
 * a person's curl through during a scrape, and bound the threads' work. */
#define METRICS_MAX_CONNECTIONS 8u
/* A connection idle this long is closed (seconds). */
#define METRICS_CONNECTION_TIMEOUT_S 10u

typedef struct daemon_metrics {
    struct MHD_Daemon *mhd;
    pthread_mutex_t lock;
    char *text; /* under lock */
    size_t len;
    /* main thread only */
    double round_sum_s, sense_sum_s, last_round_s, last_sense_s;
    uint64_t round_count, sense_count;
    np_metrics_node *nodes;
    size_t nr_nodes;
} daemon_metrics;

static void render(daemon_t *d);

static const char not_found[] = "numaplaced serves /metrics only\n";

static enum MHD_Result answer(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version, const char *upload_data,
                              size_t *upload_data_size, void **con_cls)
{
    daemon_metrics *m = cls;
    struct MHD_Response *resp;
    unsigned status = MHD_HTTP_OK;
    enum MHD_Result ret;

    (void)version;
    (void)upload_data;
    (void)upload_data_size;
    (void)con_cls;
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return MHD_NO; /* closes the connection */
    if (strcmp(url, "/metrics") == 0) {
        pthread_mutex_lock(&m->lock);
        resp = MHD_create_response_from_buffer(m->len, m->text ? m->text : (char *)"",
                                               MHD_RESPMEM_MUST_COPY);
        pthread_mutex_unlock(&m->lock);
    } else {
        status = MHD_HTTP_NOT_FOUND;
        resp = MHD_create_response_from_buffer(sizeof(not_found) - 1, (void *)not_found,
                                               MHD_RESPMEM_PERSISTENT);
    }
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, METRICS_CONTENT_TYPE);
    ret = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

int daemon_metrics_start(daemon_t *d)
{
    np_metrics_listen l;
    np_error err = {0};
    daemon_metrics *m = NULL;
    struct sockaddr_in sin;
    struct sockaddr_in6 sin6;
    const struct sockaddr *sa;
    int rc;

    if (!d->cfg.metrics_listen[0])
        return 0;
    rc = np_metrics_listen_parse(d->cfg.metrics_listen, "metrics_listen", &l, &err);
    if (rc) {
        dlog(NP_LOG_ERROR, "metrics_listen: %s", err.msg);
        return rc;
    }
    if (!np_metrics_listen_is_loopback(&l))
        dlog(NP_LOG_WARNING, "metrics_listen %s is not a loopback address: the metrics (guest "
                             "names, sizes) are readable from the network",
             d->cfg.metrics_listen);
    m = calloc(1, sizeof(*m));
    if (!m)
        return -ENOMEM;
    pthread_mutex_init(&m->lock, NULL);
    if (l.ipv6) {
        memset(&sin6, 0, sizeof(sin6));
        sin6.sin6_family = AF_INET6;
        sin6.sin6_port = htons(l.port);
        memcpy(&sin6.sin6_addr, l.addr, 16);
        sa = (const struct sockaddr *)&sin6;
    } else {
        memset(&sin, 0, sizeof(sin));
        sin.sin_family = AF_INET;
        sin.sin_port = htons(l.port);
        memcpy(&sin.sin_addr, l.addr, 4);
        sa = (const struct sockaddr *)&sin;
    }
    m->mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | (l.ipv6 ? MHD_USE_IPv6 : 0),
                              l.port, NULL, NULL, answer, m, MHD_OPTION_SOCK_ADDR, sa,
                              MHD_OPTION_CONNECTION_LIMIT, (unsigned)METRICS_MAX_CONNECTIONS,
                              MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)METRICS_CONNECTION_TIMEOUT_S,
                              MHD_OPTION_END);
    if (!m->mhd) {
        rc = errno ? -errno : -EADDRINUSE;
        dlog(NP_LOG_ERROR, "metrics_listen %s: cannot listen: %s", d->cfg.metrics_listen,
             np_strerror(rc));
        pthread_mutex_destroy(&m->lock);
        free(m);
        return rc;
    }
    d->metrics = m;
    dlog(NP_LOG_INFO, "metrics on http://%s/metrics", d->cfg.metrics_listen);
    render(d); /* something to serve before the first round */
    return 0;
}

void daemon_metrics_stop(daemon_t *d)
{
    daemon_metrics *m = d->metrics;
    if (!m)
        return;
    MHD_stop_daemon(m->mhd);
    pthread_mutex_destroy(&m->lock);
    free(m->text);
    free(m->nodes);
    free(m);
    d->metrics = NULL;
}

void daemon_metrics_sensed(daemon_t *d, const np_backend_guest *gs, size_t n, uint64_t sense_ns)
{
    daemon_metrics *m = d->metrics;
    np_host_state *st = NULL;
    np_node_load *loads = NULL;

    if (!m)
        return;
    m->last_sense_s = (double)sense_ns / 1e9;
    m->sense_sum_s += m->last_sense_s;
    m->sense_count++;
    /* The node loads from the guests this round already listed: no second
     * walk of the guests' memory. */
    if (np_backend_sense_guests(d->be, gs, n, &st))
        return;
    const np_topology *topo = np_host_state_topology(st);
    size_t nn = np_topology_nr_nodes(topo);
    loads = calloc(nn ? nn : 1, sizeof(*loads));
    np_metrics_node *nodes = calloc(nn ? nn : 1, sizeof(*nodes));
    if (!loads || !nodes || np_host_state_node_loads(st, loads)) {
        free(nodes);
        goto out;
    }
    for (size_t k = 0; k < nn; k++) {
        uint64_t free_bytes = 0;
        nodes[k].os_id = np_topology_node(topo, k)->os_id;
        nodes[k].cpu_demand_cpus = loads[k].cpu_demand;
        nodes[k].cpu_capacity_cpus = loads[k].cpu_capacity;
        nodes[k].mem_total_bytes = loads[k].mem_total_bytes;
        if (np_host_state_node_free(st, k, &free_bytes))
            free_bytes = loads[k].mem_available_bytes;
        nodes[k].mem_free_bytes = free_bytes;
    }
    free(m->nodes);
    m->nodes = nodes;
    m->nr_nodes = nn;
out:
    free(loads);
    np_host_state_destroy(st);
}

void daemon_metrics_round(daemon_t *d, int rc, uint64_t round_ns)
{
    daemon_metrics *m = d->metrics;
    if (!m)
        return;
    (void)rc; /* a failed round logged an error: counted in errors_total */
    m->last_round_s = (double)round_ns / 1e9;
    m->round_sum_s += m->last_round_s;
    m->round_count++;
    render(d);
}

/* The snapshot of the daemon's state as text, swapped in for the listener. */
static void render(daemon_t *d)
{
    daemon_metrics *m = d->metrics;
    np_metrics_guest *guests = NULL;
    np_metrics_snapshot s;
    char *text = NULL;
    size_t len = 0;

    guests = calloc(d->st.nr_guests ? d->st.nr_guests : 1, sizeof(*guests));
    if (!guests)
        return;
    for (size_t i = 0; i < d->st.nr_guests; i++) {
        const dguest *g = &d->st.guests[i];
        np_balance_guest_info info = {.home_node_os_id = -1};
        bool known = d->bal && np_balance_state_guest(d->bal, g->name, &info) == 0;
        np_metrics_reason_in in = {
            .locality_ratio = g->locality,
            .target_ratio = d->cfg.locality_target,
            .excluded = dstate_is_excluded(&d->st, g->name, g->pid),
            .dry_run = d->cfg.dry_run,
            .migrating = g->inflight || (known && info.pending_bytes > info.settled_bytes),
            .low_rounds = known ? info.low_rounds : 0,
            .confirm_rounds = DAEMON_CONFIRM_ROUNDS,
            .settled_bytes = known ? info.settled_bytes : 0,
        };
        guests[i] = (np_metrics_guest){
            .name = g->name,
            .id = (uint64_t)g->pid,
            .locality_ratio = g->locality,
            /* node arrays agree when the guest was sensed on this topology */
            .node_mem_bytes = g->nr_nodes == m->nr_nodes ? g->mem_by_node_idx : NULL,
            .moves = known ? info.moves : 0,
            .moved_bytes = g->moved_bytes,
            .reason = np_metrics_classify(&in),
            .home_node_os_id = g->home_node_os_id,
        };
    }
    s = (np_metrics_snapshot){
        .version = np_version(),
        .backend = np_daemon_backend_name(d->backend),
        .locality_target_ratio = d->cfg.locality_target,
        .rounds_total = d->st.rounds,
        .errors_total = dlog_error_count(),
        .round_seconds_sum = m->round_sum_s,
        .sense_seconds_sum = m->sense_sum_s,
        .round_count = m->round_count,
        .sense_count = m->sense_count,
        .last_round_seconds = m->last_round_s,
        .last_sense_seconds = m->last_sense_s,
        .nodes = m->nodes,
        .nr_nodes = m->nr_nodes,
        .guests = guests,
        .nr_guests = d->st.nr_guests,
    };
    if (np_metrics_render(&s, &text, &len) == 0) {
        pthread_mutex_lock(&m->lock);
        free(m->text);
        m->text = text;
        m->len = len;
        pthread_mutex_unlock(&m->lock);
    }
    free(guests);
}
