/*
 * spec/scenario.c - reading scenario files (numaplace/scenario.h, format in
 * docs/scenario.md).
 *
 * The file is parsed by jansson, then checked top-down. Both the top-level
 * members and the event kinds are tables of (key, handler), so a new member
 * (a workload section, a time on events) is one handler and one table row;
 * a key in no table is an error, so a typo never passes silently. Every
 * message names the file and the line of the offending value, found by
 * walking the text along the same path (spec/json_locate.h).
 */
#include <numaplace/scenario.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "spec/json_locate.h"
#include "spec/spec_fields.h"
#include "spec/spec_json.h"
#include "util/error.h"
#include "util/text.h"

/* Scenario files may list many thousand events; 64 MiB bounds a mistake. */
#define NP_SCENARIO_MAX_BYTES (64u << 20)
/* Most events a scenario may hold. A replay costs some tens of
 * microseconds of CPU per event on an 8-node host (bench/replay-speed.sh:
 * 100,000 events in about 4 s) and each event keeps a guest spec (~0.5 KiB)
 * in memory: 200,000 bounds a replay to well under a minute and 100 MiB. */
#define NP_SCENARIO_MAX_EVENTS 200000u
/* Deepest path a message points into: events[i].kind.member.element. */
#define NP_SCENARIO_PATH_MAX 5

typedef struct sc_event {
    np_scenario_event_kind kind;
    unsigned line;
    char guest[NP_GUEST_NAME_MAX];
    np_guest_spec spec; /* arrive */
    double demand;      /* set_demand */
} sc_event;

struct np_scenario {
    char *host;
    sc_event *events;
    size_t nr_events;
};

/* State of one read: the text for line lookups, the current path, and the
 * guests present at the current event (a JSON object used as a name set). */
typedef struct sc_reader {
    const char *text;
    size_t len;
    const char *origin;
    np_error *err;
    np_scenario *sc;
    np_json_step path[NP_SCENARIO_PATH_MAX];
    size_t depth;
    json_t *present;
    bool seen_schema;
} sc_reader;

static void path_push(sc_reader *r, const char *key, size_t index)
{
    if (r->depth < NP_SCENARIO_PATH_MAX) {
        r->path[r->depth].key = key;
        r->path[r->depth].index = index;
    }
    r->depth++;
}

static void path_pop(sc_reader *r)
{
    r->depth--;
}

static unsigned here(const sc_reader *r)
{
    size_t d = r->depth < NP_SCENARIO_PATH_MAX ? r->depth : NP_SCENARIO_PATH_MAX;
    return np_json_line_of(r->text, r->len, r->path, d);
}

#define FAIL(r, ...) np_error_set((r)->err, (r)->origin, here(r), __VA_ARGS__)

/* ---- events ------------------------------------------------------------------- */

static int check_name_value(sc_reader *r, const json_t *v, const char *what, char *name_out)
{
    if (!json_is_string(v) || !np_spec_name_ok(json_string_value(v), strlen(json_string_value(v))))
        return FAIL(r, "%s: expected a guest name string (letters, digits, '-_.+@')", what);
    snprintf(name_out, NP_GUEST_NAME_MAX, "%s", json_string_value(v));
    return 0;
}

static int require_present(sc_reader *r, const char *name, const char *what)
{
    if (!json_object_get(r->present, name))
        return FAIL(r, "%s: no guest \"%s\" is present at this point", what, name);
    return 0;
}

static int event_arrive(sc_reader *r, const json_t *v, sc_event *ev)
{
    char why[NP_SPEC_WHY_MAX];
    const char *bad_key = NULL;
    np_error verr = {0};

    if (np_spec_from_json(v, &ev->spec, &bad_key, why, sizeof(why)) < 0) {
        if (!bad_key)
            return FAIL(r, "arrive: %s", why);
        path_push(r, bad_key, 0);
        int rc = FAIL(r, "arrive: %s: %s", bad_key, why);
        path_pop(r);
        return rc;
    }
    if (!ev->spec.name[0])
        return FAIL(r, "arrive: expected a \"name\" for the guest");
    if (np_guest_spec_validate(&ev->spec, NULL, &verr) < 0)
        return FAIL(r, "arrive: guest \"%s\": %s", ev->spec.name, verr.msg);
    if (json_object_get(r->present, ev->spec.name))
        return FAIL(r, "arrive: a guest \"%s\" is already present; expected a new name",
                    ev->spec.name);
    if (json_object_set_new(r->present, ev->spec.name, json_true()) < 0)
        return -ENOMEM;
    memcpy(ev->guest, ev->spec.name, sizeof(ev->guest));
    return 0;
}

static int event_depart(sc_reader *r, const json_t *v, sc_event *ev)
{
    int rc = check_name_value(r, v, "depart", ev->guest);
    if (rc == 0)
        rc = require_present(r, ev->guest, "depart");
    if (rc == 0)
        json_object_del(r->present, ev->guest);
    return rc;
}

static int event_set_demand(sc_reader *r, const json_t *v, sc_event *ev)
{
    static const char expect[] =
        "set_demand: expected {\"guest\": NAME, \"demand\": 0..1}";
    const char *key;
    json_t *m;
    bool have_guest = false, have_demand = false;
    int rc = 0;

    if (!json_is_object(v))
        return FAIL(r, "%s", expect);
    json_object_foreach((json_t *)v, key, m) {
        path_push(r, key, 0);
        if (strcmp(key, "guest") == 0) {
            rc = check_name_value(r, m, "set_demand: guest", ev->guest);
            have_guest = true;
        } else if (strcmp(key, "demand") == 0) {
            char why[NP_SPEC_WHY_MAX];
            np_guest_spec tmp;
            np_guest_spec_init(&tmp);
            if (!json_is_number(m) ||
                np_spec_set_demand(&tmp, json_number_value(m), why, sizeof(why)) < 0)
                rc = FAIL(r, "set_demand: demand: expected a number between 0 and 1");
            ev->demand = tmp.cpu_demand;
            have_demand = true;
        } else {
            rc = FAIL(r, "set_demand: unknown key \"%s\"; expected guest and demand", key);
        }
        path_pop(r);
        if (rc < 0)
            return rc;
    }
    if (!have_guest || !have_demand)
        return FAIL(r, "%s", expect);
    return require_present(r, ev->guest, "set_demand");
}

/* Event kinds: the one key an event object holds. */
static const struct {
    const char *key;
    np_scenario_event_kind kind;
    int (*read)(sc_reader *r, const json_t *v, sc_event *ev);
} event_kinds[] = {
    {"arrive", NP_SCENARIO_ARRIVE, event_arrive},
    {"depart", NP_SCENARIO_DEPART, event_depart},
    {"set_demand", NP_SCENARIO_SET_DEMAND, event_set_demand},
};
#define NR_EVENT_KINDS (sizeof(event_kinds) / sizeof(event_kinds[0]))

static int read_event(sc_reader *r, const json_t *obj, sc_event *ev, unsigned line)
{
    static const char expect[] =
        "expected an event object with one of \"arrive\", \"depart\", \"set_demand\"";
    const char *key;
    json_t *v;

    if (!json_is_object(obj) || json_object_size(obj) == 0)
        return FAIL(r, "%s", expect);
    if (json_object_size(obj) > 1)
        return FAIL(r, "%s; this one has %zu keys", expect, json_object_size(obj));
    json_object_foreach((json_t *)obj, key, v) {
        size_t k = 0;
        while (k < NR_EVENT_KINDS && strcmp(event_kinds[k].key, key) != 0)
            k++;
        if (k == NR_EVENT_KINDS) {
            path_push(r, key, 0);
            int rc = FAIL(r, "unknown event \"%s\"; %s", key, expect);
            path_pop(r);
            return rc;
        }
        ev->kind = event_kinds[k].kind;
        ev->line = line;
        path_push(r, key, 0);
        int rc = event_kinds[k].read(r, v, ev);
        path_pop(r);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* ---- top level -------------------------------------------------------------------- */

static int top_schema(sc_reader *r, const json_t *v)
{
    if (!json_is_string(v) || strcmp(json_string_value(v), NP_SCENARIO_SCHEMA) != 0)
        return FAIL(r, "schema: expected \"%s\"", NP_SCENARIO_SCHEMA);
    r->seen_schema = true;
    return 0;
}

static int top_host(sc_reader *r, const json_t *v)
{
    if (!json_is_string(v) || json_string_length(v) == 0)
        return FAIL(r, "host: expected a topology source such as \"builtin:2s-2n\" or a "
                       "file name");
    r->sc->host = strdup(json_string_value(v));
    return r->sc->host ? 0 : -ENOMEM;
}

static int top_events(sc_reader *r, const json_t *v)
{
    if (!json_is_array(v))
        return FAIL(r, "events: expected an array of event objects");
    np_scenario *sc = r->sc;
    size_t n = json_array_size(v);
    if (n > NP_SCENARIO_MAX_EVENTS)
        return FAIL(r, "events: %zu events, more than the %u a scenario may hold; split it "
                       "into several scenarios",
                    n, NP_SCENARIO_MAX_EVENTS);
    unsigned *lines = calloc(n ? n : 1, sizeof(*lines));
    sc->events = calloc(n ? n : 1, sizeof(*sc->events));
    int rc = 0;
    if (!sc->events || !lines) {
        rc = -ENOMEM;
        goto out;
    }
    /* One walk for every event's line; per event it would be quadratic. */
    np_json_element_lines(r->text, r->len, r->path, r->depth, lines, n);
    for (size_t i = 0; i < n && rc == 0; i++) {
        path_push(r, NULL, i);
        rc = read_event(r, json_array_get(v, i), &sc->events[i], lines[i]);
        path_pop(r);
        if (rc == 0)
            sc->nr_events++;
    }
out:
    free(lines);
    return rc;
}

/* Top-level members; order in the file does not matter, and the table
 * order is the order they are checked in. */
static const struct {
    const char *key;
    int (*read)(sc_reader *r, const json_t *v);
} top_keys[] = {
    {"schema", top_schema},
    {"host", top_host},
    {"events", top_events},
};
#define NR_TOP_KEYS (sizeof(top_keys) / sizeof(top_keys[0]))

static int read_top(sc_reader *r, const json_t *root)
{
    const char *key;
    json_t *v;
    if (!json_is_object(root))
        return FAIL(r, "expected a scenario object {\"schema\": \"%s\", ...}", NP_SCENARIO_SCHEMA);
    json_object_foreach((json_t *)root, key, v) {
        size_t k = 0;
        while (k < NR_TOP_KEYS && strcmp(top_keys[k].key, key) != 0)
            k++;
        if (k == NR_TOP_KEYS) {
            path_push(r, key, 0);
            int rc = FAIL(r, "unknown key \"%s\"; expected schema, host or events", key);
            path_pop(r);
            return rc;
        }
    }
    for (size_t k = 0; k < NR_TOP_KEYS; k++) {
        v = json_object_get(root, top_keys[k].key);
        if (!v)
            continue;
        path_push(r, top_keys[k].key, 0);
        int rc = top_keys[k].read(r, v);
        path_pop(r);
        if (rc < 0)
            return rc;
    }
    if (!r->seen_schema)
        return FAIL(r, "expected \"schema\": \"%s\"", NP_SCENARIO_SCHEMA);
    if (!json_object_get(root, "events"))
        return FAIL(r, "expected an \"events\" array");
    return 0;
}

int np_scenario_parse(const char *text, size_t len, const char *origin, np_scenario **out,
                      np_error *err)
{
    json_t *root = NULL;
    json_error_t jerr;
    sc_reader r = {.text = text, .len = len, .origin = origin ? origin : "", .err = err};
    int rc = 0;

    if (!text || !out)
        return np_error_set(err, r.origin, 0, "no scenario given");
    if (len > NP_SCENARIO_MAX_BYTES)
        return np_error_set(err, r.origin, 0, "scenario larger than %u bytes",
                            NP_SCENARIO_MAX_BYTES);
    r.sc = calloc(1, sizeof(*r.sc));
    r.present = json_object();
    if (!r.sc || !r.present) {
        rc = -ENOMEM;
        goto out;
    }
    root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        rc = np_error_set(err, r.origin, jerr.line > 0 ? (unsigned)jerr.line : 0,
                          "invalid JSON: %s", jerr.text);
        goto out;
    }
    rc = read_top(&r, root);
    if (rc == 0) {
        *out = r.sc;
        r.sc = NULL;
    }
out:
    json_decref(root);
    json_decref(r.present);
    np_scenario_destroy(r.sc);
    return rc;
}

int np_scenario_read_file(const char *path, np_scenario **out, np_error *err)
{
    char *buf = NULL;
    size_t len = 0;
    if (!path || !out)
        return np_error_set(err, "", 0, "no scenario file given");
    const char *origin = path[0] == '-' && path[1] == '\0' ? "<stdin>" : path;
    int rc = np_read_file(path, NP_SCENARIO_MAX_BYTES, &buf, &len);
    if (rc == -EFBIG)
        return np_error_set(err, origin, 0, "scenario larger than %u bytes",
                            NP_SCENARIO_MAX_BYTES);
    if (rc < 0) {
        np_error_set(err, origin, 0, "cannot read: %s", np_strerror(rc));
        return rc;
    }
    rc = np_scenario_parse(buf, len, origin, out, err);
    free(buf);
    return rc;
}

void np_scenario_destroy(np_scenario *sc)
{
    if (!sc)
        return;
    free(sc->host);
    free(sc->events);
    free(sc);
}

/* ---- accessors ---------------------------------------------------------------------- */

const char *np_scenario_host(const np_scenario *sc)
{
    return sc ? sc->host : NULL;
}

size_t np_scenario_nr_events(const np_scenario *sc)
{
    return sc ? sc->nr_events : 0;
}

static const sc_event *event_at(const np_scenario *sc, size_t i)
{
    return sc && i < sc->nr_events ? &sc->events[i] : NULL;
}

np_scenario_event_kind np_scenario_event_kind_of(const np_scenario *sc, size_t i)
{
    const sc_event *ev = event_at(sc, i);
    return ev ? ev->kind : NP_SCENARIO_ARRIVE;
}

const char *np_scenario_event_kind_name(np_scenario_event_kind kind)
{
    for (size_t k = 0; k < NR_EVENT_KINDS; k++)
        if (event_kinds[k].kind == kind)
            return event_kinds[k].key;
    return "unknown";
}

const np_guest_spec *np_scenario_event_spec(const np_scenario *sc, size_t i)
{
    const sc_event *ev = event_at(sc, i);
    return ev && ev->kind == NP_SCENARIO_ARRIVE ? &ev->spec : NULL;
}

const char *np_scenario_event_guest(const np_scenario *sc, size_t i)
{
    const sc_event *ev = event_at(sc, i);
    return ev ? ev->guest : NULL;
}

int np_scenario_event_demand(const np_scenario *sc, size_t i, double *demand_out)
{
    const sc_event *ev = event_at(sc, i);
    if (!ev || ev->kind != NP_SCENARIO_SET_DEMAND)
        return -EINVAL;
    *demand_out = ev->demand;
    return 0;
}

unsigned np_scenario_event_line(const np_scenario *sc, size_t i)
{
    const sc_event *ev = event_at(sc, i);
    return ev ? ev->line : 0;
}
