/*
 * sim/scenario_file.c - reads simulator scenarios, JSON documents of
 * schema "numaplace.sim-scenario/1" (docs/benchmarking.md has the schema):
 *
 *   {"schema": "numaplace.sim-scenario/1", "name": "mix-4n",
 *    "summary": "...", "host": "gen:4", "duration_s": 10, "seed": 1,
 *    "sample_ms": 250, "page_sharing": "off",
 *    "guests": [{"name": "db", "count": 4, "vcpus": 4, "memory_mib": 8192,
 *                "cpu": "steady", "mem_intensity": 0.6, ...}]}
 *
 * Every key is checked: unknown keys, wrong types and values out of range
 * are errors naming the file, the line of the value (found again in the
 * text with spec/json_locate.h, since jansson keeps no positions after
 * parsing) and what was expected. A guest entry with "count" N stands for
 * N instances named NAME-0 .. NAME-(N-1), arriving "arrive_every_s" apart.
 */
#include "sim/scenario_int.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/prng.h"
#include "spec/json_locate.h"
#include "util/error.h"
#include "util/text.h"

/* Scenario files are small; 4 MiB bounds a mistaken input. */
#define SC_MAX_BYTES (4u << 20)
/* Bounds that keep a scenario runnable in a benchmark, not a week. */
#define SC_MAX_DURATION_S 3600.0
#define SC_MAX_COUNT 20000u
#define SC_MAX_MEM_MIB (UINT64_C(16) << 20) /* 16 TiB per guest */
#define SC_MIN_SAMPLE_MS 1.0
/* Bounds on the whole run, which the per-key bounds above do not give
 * (20,000 guests of 512 vCPUs for 3,600 s passed them all and grew past
 * 2.8 GB): the time series holds one point per guest per sample, and the
 * scheduler's work grows with vCPUs times seconds. The largest built-in
 * scenario (15-large-256n) has 30,720 guest-samples and 8,192 vCPU-seconds,
 * the longest (07-churn-4n) 9,600 of each: both caps leave 100x room. */
#define SC_MAX_GUEST_SAMPLES 4000000.0
#define SC_MAX_VCPU_SECONDS 2000000.0
/* A guest entry's name, short enough for "-NNNNN" in NP_GUEST_NAME_MAX. */
#define SC_GUEST_BASE_MAX 40
#define SC_MAX_WEIGHT 65535u   /* Xen's credit scheduler accepts 1..65535 */
#define SC_MAX_BURST_MS 10000u /* 10 s bursts: longer is "steady" */
/* Default sampling period of the time series: 40 points in 10 s. */
#define SC_DEFAULT_SAMPLE_MS 250.0
#define NS_PER_S 1e9
#define NS_PER_MS 1e6
#define MIB (UINT64_C(1) << 20)

typedef struct reader {
    const char *text;
    size_t len;
    const char *origin;
    np_error *err;
    np_json_step path[4];
    size_t depth;
    np_sim_scenario *sc;
    np_prng rng; /* lifetime jitter, seeded by the scenario's seed */
    uint32_t next_group;
} reader;

static unsigned line_at(const reader *r, const char *key)
{
    np_json_step p[5];
    size_t d = r->depth;
    memcpy(p, r->path, d * sizeof(p[0]));
    if (key)
        p[d++] = (np_json_step){.key = key};
    return np_json_line_of(r->text, r->len, p, d);
}

static int bad(const reader *r, const char *key, const char *what)
{
    return np_error_set(r->err, r->origin, line_at(r, key), "%s: expected %s", key ? key : "value",
                        what);
}

static int check_keys(const reader *r, json_t *obj, const char *const *allowed)
{
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v) {
        bool ok = false;
        for (size_t i = 0; allowed[i] && !ok; i++)
            ok = strcmp(allowed[i], key) == 0;
        if (!ok)
            return np_error_set(r->err, r->origin, line_at(r, key), "unknown key '%s'", key);
    }
    return 0;
}

/* A number in [min, max]; absent keys keep *out. */
static int get_real(const reader *r, json_t *obj, const char *key, double min, double max,
                    double *out)
{
    json_t *v = json_object_get(obj, key);
    char what[96];
    if (!v)
        return 0;
    snprintf(what, sizeof(what), "a number from %g to %g", min, max);
    if (!json_is_number(v))
        return bad(r, key, what);
    double x = json_number_value(v);
    if (!(x >= min && x <= max))
        return bad(r, key, what);
    *out = x;
    return 0;
}

static int get_uint(const reader *r, json_t *obj, const char *key, uint64_t min, uint64_t max,
                    uint64_t *out)
{
    json_t *v = json_object_get(obj, key);
    char what[96];
    if (!v)
        return 0;
    snprintf(what, sizeof(what), "a whole number from %llu to %llu", (unsigned long long)min,
             (unsigned long long)max);
    if (!json_is_integer(v) || json_integer_value(v) < 0 ||
        (uint64_t)json_integer_value(v) < min || (uint64_t)json_integer_value(v) > max)
        return bad(r, key, what);
    *out = (uint64_t)json_integer_value(v);
    return 0;
}

static int get_str(const reader *r, json_t *obj, const char *key, bool required, char *buf,
                   size_t cap)
{
    json_t *v = json_object_get(obj, key);
    if (!v) {
        if (required)
            return np_error_set(r->err, r->origin, line_at(r, NULL), "missing key '%s'", key);
        return 0;
    }
    if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) >= cap) {
        char what[64];
        snprintf(what, sizeof(what), "a string of 1 to %zu characters", cap - 1);
        return bad(r, key, what);
    }
    memcpy(buf, json_string_value(v), json_string_length(v) + 1);
    return 0;
}

static int get_word(const reader *r, json_t *obj, const char *key, const char *const *words,
                    const char *what, int *out)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        return 0;
    for (int i = 0; json_is_string(v) && words[i]; i++) {
        if (strcmp(words[i], json_string_value(v)) == 0) {
            *out = i;
            return 0;
        }
    }
    return bad(r, key, what);
}

static int read_balloon(reader *r, json_t *arr, sc_guest *proto)
{
    static const char *const keys[] = {"at_s", "memory_mib", NULL};
    if (!json_is_array(arr))
        return bad(r, "balloon", "an array of {\"at_s\", \"memory_mib\"}");
    size_t n = json_array_size(arr);
    if (n > NP_SIM_MAX_BALLOON_STEPS)
        return bad(r, "balloon", "at most 1024 steps");
    proto->balloon = calloc(n ? n : 1, sizeof(*proto->balloon));
    if (!proto->balloon)
        return -ENOMEM;
    r->path[r->depth++] = (np_json_step){.key = "balloon"};
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        json_t *s = json_array_get(arr, i);
        r->path[r->depth++] = (np_json_step){.index = i};
        double at_s = -1;
        uint64_t mib = 0;
        if (!json_is_object(s))
            rc = np_error_set(r->err, r->origin, line_at(r, NULL),
                              "balloon step: expected an object");
        if (!rc)
            rc = check_keys(r, s, keys);
        if (!rc)
            rc = get_real(r, s, "at_s", 0, SC_MAX_DURATION_S, &at_s);
        if (!rc)
            rc = get_uint(r, s, "memory_mib", 1, proto->g.spec.maxmem_bytes / MIB, &mib);
        if (!rc && (at_s < 0 || mib == 0))
            rc = np_error_set(r->err, r->origin, line_at(r, NULL),
                              "balloon step: expected at_s and memory_mib (up to maxmem_mib)");
        if (!rc)
            proto->balloon[i] = (sc_balloon){.at_ns = (uint64_t)(at_s * NS_PER_S),
                                             .mem_bytes = mib * MIB};
        r->depth--;
    }
    r->depth--;
    proto->nr_balloon = rc ? 0 : n;
    return rc;
}

static const char *const guest_keys[] = {
    "name", "count", "vcpus", "memory_mib", "maxmem_mib", "arrive_s", "arrive_every_s",
    "lifetime_s", "lifetime_jitter", "cpu", "duty", "burst_ms", "mem_intensity",
    "working_set_mib", "weight", "talk_group_size", "comm_fraction", "io_node", "io_fraction",
    "share_class", "shareable", "balloon", "vnuma", NULL,
};

static int add_instance(reader *r, const sc_guest *proto, size_t i, double lifetime_s,
                        double jitter)
{
    np_sim_scenario *sc = r->sc;
    sc_guest *g = &sc->guests[sc->nr_guests];
    *g = *proto;
    g->balloon = NULL;
    g->nr_balloon = 0;
    snprintf(g->g.spec.name, sizeof(g->g.spec.name), "%.*s-%zu", SC_GUEST_BASE_MAX,
             proto->g.spec.name, i);
    if (lifetime_s > 0) {
        /* lifetime x (1 +- jitter): departures in a different order than
         * arrivals, which is what leaves nodes fragmented. */
        double f = 1.0 + jitter * (2.0 * np_prng_uniform(&r->rng) - 1.0);
        g->leave_ns = g->g.start_ns + (uint64_t)(lifetime_s * f * NS_PER_S);
    }
    if (proto->nr_balloon) {
        g->balloon = malloc(proto->nr_balloon * sizeof(*g->balloon));
        if (!g->balloon)
            return -ENOMEM;
        memcpy(g->balloon, proto->balloon, proto->nr_balloon * sizeof(*g->balloon));
        g->nr_balloon = proto->nr_balloon;
    }
    sc->nr_guests++;
    return 0;
}

static int read_guest(reader *r, json_t *obj, size_t idx)
{
    static const char *const patterns[] = {"steady", "bursty", "idle", NULL};
    static const char *const vnuma[] = {"auto", "off", NULL};
    sc_guest proto = {0};
    uint64_t count = 1, vcpus = 0, mem_mib = 0, maxmem_mib = 0, burst_ms = 0, ws_mib = 0;
    uint64_t weight = 0, group_size = 0, share_class = 0, io_node = UINT64_MAX;
    double arrive_s = 0, every_s = 0, lifetime_s = 0, jitter = 0, duty = -1;
    int pattern = 0, vn = 0;
    int rc;

    r->path[r->depth++] = (np_json_step){.index = idx};
    if (!json_is_object(obj)) {
        rc = np_error_set(r->err, r->origin, line_at(r, NULL), "guest: expected an object");
        goto out;
    }
    np_sim_guest_init(&proto.g);
    rc = check_keys(r, obj, guest_keys);
    if (!rc)
        rc = get_str(r, obj, "name", true, proto.g.spec.name, SC_GUEST_BASE_MAX + 1);
    if (!rc)
        rc = get_uint(r, obj, "count", 1, SC_MAX_COUNT, &count);
    if (!rc)
        rc = get_uint(r, obj, "vcpus", 1, NP_SIM_MAX_VCPUS_PER_GUEST, &vcpus);
    if (!rc)
        rc = get_uint(r, obj, "memory_mib", 1, SC_MAX_MEM_MIB, &mem_mib);
    if (!rc && (!vcpus || !mem_mib))
        rc = np_error_set(r->err, r->origin, line_at(r, NULL),
                          "guest: expected \"vcpus\" and \"memory_mib\"");
    maxmem_mib = mem_mib;
    if (!rc)
        rc = get_uint(r, obj, "maxmem_mib", mem_mib, SC_MAX_MEM_MIB, &maxmem_mib);
    if (!rc)
        rc = get_real(r, obj, "arrive_s", 0, SC_MAX_DURATION_S, &arrive_s);
    if (!rc)
        rc = get_real(r, obj, "arrive_every_s", 0, SC_MAX_DURATION_S, &every_s);
    if (!rc)
        rc = get_real(r, obj, "lifetime_s", 0, SC_MAX_DURATION_S, &lifetime_s);
    if (!rc)
        rc = get_real(r, obj, "lifetime_jitter", 0, 0.9, &jitter);
    if (!rc)
        rc = get_word(r, obj, "cpu", patterns, "\"steady\", \"bursty\" or \"idle\"", &pattern);
    if (!rc)
        np_sim_vcpu_load_init(&proto.g.load, (np_sim_pattern)pattern);
    if (!rc)
        rc = get_real(r, obj, "duty", 0.001, 1.0, &duty);
    if (!rc && duty > 0)
        proto.g.load.duty = duty;
    if (!rc)
        rc = get_uint(r, obj, "burst_ms", 1, SC_MAX_BURST_MS, &burst_ms);
    if (!rc && burst_ms)
        proto.g.load.burst_work_ns = burst_ms * (uint64_t)NS_PER_MS;
    if (!rc)
        rc = get_real(r, obj, "mem_intensity", 0, 1, &proto.g.load.mem_intensity);
    if (!rc)
        rc = get_uint(r, obj, "working_set_mib", 1, SC_MAX_MEM_MIB, &ws_mib);
    if (!rc && ws_mib)
        proto.g.load.working_set_bytes = ws_mib * MIB;
    if (!rc)
        rc = get_uint(r, obj, "weight", 1, SC_MAX_WEIGHT, &weight);
    if (!rc)
        rc = get_uint(r, obj, "talk_group_size", 2, SC_MAX_COUNT, &group_size);
    if (!rc)
        rc = get_real(r, obj, "comm_fraction", 0, 0.9, &proto.g.comm_fraction);
    if (!rc && group_size && !(proto.g.comm_fraction > 0))
        rc = bad(r, "comm_fraction", "a share above 0 when talk_group_size is given");
    if (!rc)
        rc = get_uint(r, obj, "io_node", 0, INT32_MAX, &io_node);
    if (!rc)
        rc = get_real(r, obj, "io_fraction", 0, 0.9, &proto.g.io_fraction);
    if (!rc && (proto.g.io_fraction > 0) != (io_node != UINT64_MAX))
        rc = bad(r, "io_fraction", "io_node and io_fraction given together");
    if (!rc)
        rc = get_uint(r, obj, "share_class", 1, UINT32_MAX, &share_class);
    if (!rc)
        rc = get_real(r, obj, "shareable", 0, 1, &proto.g.shareable_fraction);
    if (!rc)
        rc = get_word(r, obj, "vnuma", vnuma, "\"auto\" or \"off\"", &vn);
    if (rc)
        goto out;
    proto.g.spec.vcpus = (uint32_t)vcpus;
    proto.g.spec.mem_bytes = mem_mib * MIB;
    proto.g.spec.maxmem_bytes = maxmem_mib * MIB;
    proto.g.spec.vnuma_nodes = vn ? NP_VNUMA_OFF : NP_VNUMA_AUTO;
    proto.g.spec.cpu_demand = pattern == NP_SIM_STEADY ? 1.0 : proto.g.load.duty;
    proto.g.weight = (uint32_t)weight;
    proto.g.share_class = (uint32_t)share_class;
    if (io_node != UINT64_MAX)
        proto.g.spec.io_node_os_id = (int32_t)io_node;
    if (json_object_get(obj, "balloon"))
        rc = read_balloon(r, json_object_get(obj, "balloon"), &proto);
    if (rc)
        goto out;

    np_sim_scenario *sc = r->sc;
    if (count > NP_SIM_MAX_GUESTS - sc->nr_guests) {
        rc = np_error_set(r->err, r->origin, line_at(r, "count"), "more than %u guests in all",
                          NP_SIM_MAX_GUESTS);
        goto out;
    }
    sc_guest *grown = realloc(sc->guests, (sc->nr_guests + count) * sizeof(*grown));
    if (!grown) {
        rc = -ENOMEM;
        goto out;
    }
    sc->guests = grown;
    uint32_t group = 0;
    for (uint64_t i = 0; i < count && !rc; i++) {
        proto.g.start_ns = (uint64_t)((arrive_s + every_s * (double)i) * NS_PER_S);
        if (group_size && i % group_size == 0)
            group = ++r->next_group;
        proto.talk_group = group;
        if (group) {
            /* Placement learns of the traffic as an affinity group. */
            snprintf(proto.g.spec.group, sizeof(proto.g.spec.group), "talk%u", group);
            proto.g.spec.group_rule = NP_GROUP_COLOCATE;
        }
        rc = add_instance(r, &proto, (size_t)i, lifetime_s, jitter);
    }
out:
    free(proto.balloon);
    r->depth--;
    return rc;
}

/* "host" the way the suite opens it (sim/suite.c): "gen:NODES", a built-in
 * host's name, or a topology source with ':' or '/' (checked when opened).
 * The first two are checked here, so that the error names this file and
 * line rather than only the host. */
static int check_host(const reader *r, const char *host)
{
    static const char want[] = "gen:NODES (1..1024 nodes), a built-in host (numaplace topology "
                               "--list) or a topology source such as a file";
    if (strncmp(host, "gen:", 4) == 0) {
        const char *p = host + 4;
        uint64_t nodes;
        if (np_parse_u64(&p, NP_TOPO_MAX_NODES, &nodes) || *p || nodes == 0)
            return bad(r, "host", want);
        return 0;
    }
    if (strchr(host, ':') || strchr(host, '/'))
        return 0;
    np_topology *t = NULL;
    np_error e = {0};
    int rc = np_topology_builtin(host, &t, &e);
    np_topology_destroy(t);
    return rc ? bad(r, "host", want) : 0;
}

/* The whole run within SC_MAX_GUEST_SAMPLES and SC_MAX_VCPU_SECONDS. */
static int check_size(const reader *r, double duration_s, double sample_ms)
{
    const np_sim_scenario *sc = r->sc;
    double vcpus = 0, samples = duration_s * 1000.0 / sample_ms;
    for (size_t i = 0; i < sc->nr_guests; i++)
        vcpus += sc->guests[i].g.spec.vcpus;
    if ((double)sc->nr_guests * samples > SC_MAX_GUEST_SAMPLES)
        return np_error_set(r->err, r->origin, line_at(r, "duration_s"),
                            "%zu guests sampled %.0f times (duration_s / sample_ms) is too "
                            "large a run: at most %.0f guest-samples; shorten duration_s, "
                            "raise sample_ms or lower the counts",
                            sc->nr_guests, samples, SC_MAX_GUEST_SAMPLES);
    if (vcpus * duration_s > SC_MAX_VCPU_SECONDS)
        return np_error_set(r->err, r->origin, line_at(r, "duration_s"),
                            "%.0f vCPUs for %g s is too large a run: at most %.0f vCPU-seconds; "
                            "shorten duration_s or lower the counts or vcpus",
                            vcpus, duration_s, SC_MAX_VCPU_SECONDS);
    return 0;
}

static const char *const top_keys[] = {
    "schema", "name", "summary", "host", "duration_s", "seed", "sample_ms", "page_sharing",
    "guests", NULL,
};

static int read_top(reader *r, json_t *root)
{
    static const char *const share[] = {"off", "node-local", "cross-node", NULL};
    np_sim_scenario *sc = r->sc;
    char schema[64] = "";
    double duration_s = 0, sample_ms = SC_DEFAULT_SAMPLE_MS;
    uint64_t seed = 1;
    int mode = 0;
    int rc;

    if (!json_is_object(root))
        return np_error_set(r->err, r->origin, 1, "expected a JSON object (a scenario)");
    rc = check_keys(r, root, top_keys);
    if (!rc)
        rc = get_str(r, root, "schema", true, schema, sizeof(schema));
    if (!rc && strcmp(schema, NP_SIM_SCENARIO_SCHEMA) != 0)
        rc = bad(r, "schema", "\"" NP_SIM_SCENARIO_SCHEMA "\"");
    if (!rc)
        rc = get_str(r, root, "name", true, sc->name, sizeof(sc->name));
    if (!rc)
        rc = get_str(r, root, "summary", false, sc->summary, sizeof(sc->summary));
    if (!rc)
        rc = get_str(r, root, "host", true, sc->host, sizeof(sc->host));
    if (!rc)
        rc = check_host(r, sc->host);
    if (!rc && !json_object_get(root, "duration_s"))
        rc = np_error_set(r->err, r->origin, 1, "missing key 'duration_s'");
    if (!rc)
        rc = get_real(r, root, "duration_s", 0.01, SC_MAX_DURATION_S, &duration_s);
    if (!rc)
        rc = get_uint(r, root, "seed", 1, UINT32_MAX, &seed);
    if (!rc)
        rc = get_real(r, root, "sample_ms", SC_MIN_SAMPLE_MS, SC_MAX_DURATION_S * 1000, &sample_ms);
    if (!rc)
        rc = get_word(r, root, "page_sharing", share, "\"off\", \"node-local\" or \"cross-node\"",
                      &mode);
    if (rc)
        return rc;
    sc->duration_ns = (uint64_t)(duration_s * NS_PER_S);
    sc->sample_ns = (uint64_t)(sample_ms * NS_PER_MS);
    sc->seed = seed;
    sc->share = (np_sim_share_mode)mode;
    np_prng_seed(&r->rng, seed, 0);

    json_t *guests = json_object_get(root, "guests");
    if (!json_is_array(guests) || json_array_size(guests) == 0)
        return guests ? bad(r, "guests", "a non-empty array of guests")
                      : np_error_set(r->err, r->origin, 1, "missing key 'guests'");
    r->path[r->depth++] = (np_json_step){.key = "guests"};
    for (size_t i = 0; i < json_array_size(guests) && !rc; i++) {
        rc = read_guest(r, json_array_get(guests, i), i);
    }
    r->depth--;
    if (!rc)
        rc = check_size(r, duration_s, sample_ms);
    return rc;
}

int np_sim_scenario_parse(const char *text, size_t len, const char *origin,
                          np_sim_scenario **out, np_error *err)
{
    reader r = {.text = text, .len = len, .origin = origin ? origin : "", .err = err};
    json_t *root = NULL;
    json_error_t jerr;
    int rc;

    if (!out)
        return -EINVAL;
    *out = NULL;
    if (!text)
        return np_error_set(err, r.origin, 0, "no scenario given");
    if (len > SC_MAX_BYTES)
        return np_error_set(err, r.origin, 0, "scenario larger than %u bytes", SC_MAX_BYTES);
    r.sc = calloc(1, sizeof(*r.sc));
    if (!r.sc)
        return -ENOMEM;
    root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        rc = np_error_set(err, r.origin, jerr.line > 0 ? (unsigned)jerr.line : 0,
                          "invalid JSON: %s", jerr.text);
        goto out;
    }
    rc = read_top(&r, root);
    if (!rc) {
        *out = r.sc;
        r.sc = NULL;
    }
out:
    json_decref(root);
    np_sim_scenario_destroy(r.sc);
    return rc;
}

int np_sim_scenario_load(const char *path, np_sim_scenario **out, np_error *err)
{
    char *buf = NULL;
    size_t len = 0;
    if (!path || !out)
        return -EINVAL;
    int rc = np_read_file(path, SC_MAX_BYTES, &buf, &len);
    if (rc) {
        np_error_set(err, path, 0, "cannot read: %s",
                     rc == -ETIMEDOUT ? "a FIFO nobody wrote to within 10 s" : np_strerror(rc));
        return rc;
    }
    rc = np_sim_scenario_parse(buf, len, path, out, err);
    free(buf);
    return rc;
}

void np_sim_scenario_destroy(np_sim_scenario *sc)
{
    if (!sc)
        return;
    for (size_t i = 0; i < sc->nr_guests; i++)
        free(sc->guests[i].balloon);
    free(sc->guests);
    free(sc);
}

const char *np_sim_scenario_name(const np_sim_scenario *sc)
{
    return sc ? sc->name : NULL;
}

const char *np_sim_scenario_summary(const np_sim_scenario *sc)
{
    return sc ? sc->summary : NULL;
}

const char *np_sim_scenario_host(const np_sim_scenario *sc)
{
    return sc ? sc->host : NULL;
}

size_t np_sim_scenario_nr_guests(const np_sim_scenario *sc)
{
    return sc ? sc->nr_guests : 0;
}

uint64_t np_sim_scenario_duration_ns(const np_sim_scenario *sc)
{
    return sc ? sc->duration_ns : 0;
}

uint64_t np_sim_scenario_seed(const np_sim_scenario *sc)
{
    return sc ? sc->seed : 0;
}
