/*
 * numaplace/scenario.h - scenario files: a host and a sequence of events
 * (guests arriving, departing, changing their CPU demand) that placement,
 * benchmarks and the simulator replay.
 *
 *   {"schema": "numaplace.scenario/1",
 *    "host": "builtin:epyc-8n",
 *    "events": [ {"arrive": {"name": "web", "vcpus": 4, "memory": "8G"}},
 *                {"set_demand": {"guest": "web", "demand": 0.3}},
 *                {"depart": "web"} ]}
 *
 * The format is in docs/scenario.md. Reading checks the whole file: every
 * arriving guest is a valid spec (np_guest_spec_validate without a host),
 * names are unique among the guests present, and departures and demand
 * changes name a guest that is present. Errors carry the file and line.
 * A read scenario is immutable.
 */
#ifndef NUMAPLACE_SCENARIO_H
#define NUMAPLACE_SCENARIO_H

#include <stddef.h>

#include <numaplace/common.h>
#include <numaplace/guest.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NP_SCENARIO_SCHEMA "numaplace.scenario/1"

typedef struct np_scenario np_scenario;

typedef enum np_scenario_event_kind {
    NP_SCENARIO_ARRIVE = 0, /* a guest is created: the spec */
    NP_SCENARIO_DEPART,     /* a guest goes away: its name */
    NP_SCENARIO_SET_DEMAND, /* a guest's expected CPU demand changes */
} np_scenario_event_kind;

/* The JSON text (need not be NUL-terminated); origin names it in errors. */
int np_scenario_parse(const char *text, size_t len, const char *origin, np_scenario **out,
                      np_error *err);
/* A file ("-" = stdin). */
int np_scenario_read_file(const char *path, np_scenario **out, np_error *err);
void np_scenario_destroy(np_scenario *sc); /* NULL ok */

/* The topology source named by "host" (for np_topology_open), or NULL when
 * the file leaves the host to the caller. */
const char *np_scenario_host(const np_scenario *sc);

size_t np_scenario_nr_events(const np_scenario *sc);
np_scenario_event_kind np_scenario_event_kind_of(const np_scenario *sc, size_t i);
const char *np_scenario_event_kind_name(np_scenario_event_kind kind);
/* The arriving guest's spec; NULL for other kinds or i out of range. */
const np_guest_spec *np_scenario_event_spec(const np_scenario *sc, size_t i);
/* The guest an event is about (every kind); NULL when i is out of range. */
const char *np_scenario_event_guest(const np_scenario *sc, size_t i);
/* The new demand of a set_demand event (0..1); -EINVAL for other kinds. */
int np_scenario_event_demand(const np_scenario *sc, size_t i, double *demand_out);
/* The line of the event in the file, for later messages about it. */
unsigned np_scenario_event_line(const np_scenario *sc, size_t i);

#ifdef __cplusplus
}
#endif
#endif /* NUMAPLACE_SCENARIO_H */
