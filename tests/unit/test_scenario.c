/*
 * test_scenario.c - scenario files: the events read back through the
 * accessors, and every kind of mistake reported with its line.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <numaplace/scenario.h>

#include "np_test.h"

#define GIB (UINT64_C(1) << 30)

static int parse(const char *text, np_scenario **sc, np_error *e)
{
    memset(e, 0, sizeof(*e));
    *sc = NULL;
    return np_scenario_parse(text, strlen(text), "sc.json", sc, e);
}

static void test_fixture(void)
{
    np_scenario *sc = NULL;
    np_error e = {0};
    double d = -1;
    ASSERT_EQ(np_scenario_read_file(NP_FIXTURES_DIR "/guests/scenario-small.json", &sc, &e), 0);
    if (!sc)
        return;
    ASSERT_STR_EQ(np_scenario_host(sc), "builtin:epyc-8n");
    ASSERT_EQ(np_scenario_nr_events(sc), 6);
    ASSERT_EQ(np_scenario_event_kind_of(sc, 0), NP_SCENARIO_ARRIVE);
    ASSERT_STR_EQ(np_scenario_event_guest(sc, 0), "web");
    ASSERT_EQ(np_scenario_event_line(sc, 0), 5);
    const np_guest_spec *db = np_scenario_event_spec(sc, 1);
    ASSERT_TRUE(db != NULL);
    if (db) {
        ASSERT_STR_EQ(db->name, "db");
        ASSERT_U64_EQ(db->maxmem_bytes, 96 * GIB);
        ASSERT_EQ(db->nr_devices, 1);
        ASSERT_EQ(db->group_weight, 80);
    }
    ASSERT_EQ(np_scenario_event_line(sc, 1), 6);
    ASSERT_EQ(np_scenario_event_kind_of(sc, 2), NP_SCENARIO_SET_DEMAND);
    ASSERT_STR_EQ(np_scenario_event_kind_name(NP_SCENARIO_SET_DEMAND), "set_demand");
    ASSERT_EQ(np_scenario_event_demand(sc, 2, &d), 0);
    ASSERT_TRUE(d == 0.3);
    ASSERT_TRUE(np_scenario_event_spec(sc, 2) == NULL);
    ASSERT_EQ(np_scenario_event_demand(sc, 0, &d), -EINVAL);
    ASSERT_EQ(np_scenario_event_kind_of(sc, 4), NP_SCENARIO_DEPART);
    ASSERT_STR_EQ(np_scenario_event_guest(sc, 4), "web");
    ASSERT_STR_EQ(np_scenario_event_guest(sc, 5), "web"); /* a name may come back */
    ASSERT_EQ(np_scenario_event_spec(sc, 5)->vcpus, 8);
    ASSERT_TRUE(np_scenario_event_guest(sc, 6) == NULL);
    np_scenario_destroy(sc);
}

static void test_minimal(void)
{
    np_scenario *sc;
    np_error e;
    ASSERT_EQ(parse("{\"events\": [], \"schema\": \"numaplace.scenario/1\"}", &sc, &e), 0);
    ASSERT_TRUE(np_scenario_host(sc) == NULL);
    ASSERT_EQ(np_scenario_nr_events(sc), 0);
    np_scenario_destroy(sc);
    np_scenario_destroy(NULL);
}

static void test_errors(void)
{
#define HEAD "{\"schema\": \"numaplace.scenario/1\",\n\"events\": [\n"
    static const struct {
        const char *text;
        unsigned line;
        const char *msg;
    } cases[] = {
        {"{\"events\": []}", 1, "expected \"schema\": \"numaplace.scenario/1\""},
        {"{\"schema\": \"numaplace.scenario/2\", \"events\": []}", 1, "schema: expected"},
        {"{\"schema\": \"numaplace.scenario/1\"}", 1, "expected an \"events\" array"},
        {"{\"schema\": \"numaplace.scenario/1\",\n\"hosts\": \"x\", \"events\": []}", 2,
         "unknown key \"hosts\""},
        {"{\"schema\": \"numaplace.scenario/1\",\n\"host\": 7, \"events\": []}", 2,
         "host: expected a topology source"},
        {"{\"schema\": \"numaplace.scenario/1\",\n\"events\": {}}", 2, "events: expected an array"},
        {HEAD "{\"arrive\": {\"name\": \"a\", \"vcpus\": 1, \"memory\": \"1G\"}},\n"
              "{\"leave\": \"a\"}]}",
         4, "unknown event \"leave\""},
        {HEAD "{\"arrive\": {\"vcpus\": 1, \"memory\": \"1G\"}}]}", 3, "arrive: expected a \"name\""},
        {HEAD "\n{\"arrive\": {\"name\": \"a\",\n \"vcpus\": \"1\", \"memory\": \"1G\"}}]}", 5,
         "arrive: vcpus: expected an integer"},
        {HEAD "{\"arrive\": {\"name\": \"a\", \"vcpus\": 0, \"memory\": \"1G\"}}]}", 3,
         "arrive: guest \"a\": "},
        {HEAD "{\"arrive\": {\"name\": \"a\", \"vcpus\": 1, \"memory\": \"1G\"}},\n"
              "{\"arrive\": {\"name\": \"a\", \"vcpus\": 1, \"memory\": \"1G\"}}]}",
         4, "\"a\" is already present"},
        {HEAD "{\"depart\": \"ghost\"}]}", 3, "depart: no guest \"ghost\" is present"},
        {HEAD "{\"arrive\": {\"name\": \"a\", \"vcpus\": 1, \"memory\": \"1G\"}},\n"
              "{\"depart\": \"a\"},\n{\"depart\": \"a\"}]}",
         5, "depart: no guest \"a\" is present"},
        {HEAD "{\"depart\": 3}]}", 3, "depart: expected a guest name string"},
        {HEAD "{\"set_demand\": {\"guest\": \"x\", \"demand\": 0.5}}]}", 3, "set_demand: no guest"},
        {HEAD "{\"arrive\": {\"name\": \"a\", \"vcpus\": 1, \"memory\": \"1G\"}},\n"
              "{\"set_demand\": {\"guest\": \"a\",\n\"demand\": 1.5}}]}",
         5, "set_demand: demand: expected a number between 0 and 1"},
        {HEAD "{\"set_demand\": {\"guest\": \"a\"}}]}", 3, "expected {\"guest\": NAME"},
        {HEAD "{\"set_demand\": {\"guest\": \"a\", \"demand\": 1, \"at\": 5}}]}", 3,
         "set_demand: unknown key \"at\""},
        {HEAD "{}]}", 3, "expected an event object with one of"},
        {HEAD "{\"depart\": \"a\", \"arrive\": {}}]}", 3, "this one has 2 keys"},
        {HEAD "7]}", 3, "expected an event object"},
        {"{\"schema\": \"numaplace.scenario/1\",\n\"events\": [\n{\"depart\": \"a\"}\n", 4,
         "invalid JSON"},
        {"[]", 1, "expected a scenario object"},
    };
#undef HEAD
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        np_scenario *sc;
        np_error e;
        ASSERT_EQ(parse(cases[i].text, &sc, &e), -EINVAL);
        ASSERT_TRUE(sc == NULL);
        if (e.line != cases[i].line || !strstr(e.msg, cases[i].msg))
            fprintf(stderr, "  case %zu: line %u: %s\n", i, e.line, e.msg);
        ASSERT_STR_EQ(e.origin, "sc.json");
        ASSERT_EQ(e.line, cases[i].line);
        ASSERT_CONTAINS(e.msg, cases[i].msg);
    }
}

static void test_many_events(void)
{
    /* 2000 arrivals and departures: names are tracked in a hash, not a list. */
    size_t cap = 2000 * 120 + 100, pos = 0;
    char *text = malloc(cap);
    if (!text)
        return;
    pos += (size_t)snprintf(text + pos, cap - pos,
                            "{\"schema\": \"numaplace.scenario/1\", \"events\": [");
    for (int i = 0; i < 1000; i++)
        pos += (size_t)snprintf(text + pos, cap - pos,
                                "%s{\"arrive\": {\"name\": \"g%d\", \"vcpus\": 2, \"memory\": "
                                "\"1G\"}}",
                                i ? ",\n" : "", i);
    for (int i = 0; i < 1000; i++)
        pos += (size_t)snprintf(text + pos, cap - pos, ",\n{\"depart\": \"g%d\"}", 999 - i);
    snprintf(text + pos, cap - pos, "]}");
    np_scenario *sc;
    np_error e;
    ASSERT_EQ(parse(text, &sc, &e), 0);
    ASSERT_EQ(np_scenario_nr_events(sc), 2000);
    ASSERT_STR_EQ(np_scenario_event_guest(sc, 1999), "g0");
    ASSERT_EQ(np_scenario_event_line(sc, 1999), 2000);
    np_scenario_destroy(sc);
    free(text);
}

/* The cap on events: one more than 200,000 is refused before any event
 * is read, naming the file and the events array's line. */
static void test_event_cap(void)
{
    size_t n = 200001, cap = n * 24 + 128, pos = 0;
    char *text = malloc(cap);
    if (!text)
        return;
    pos += (size_t)snprintf(text + pos, cap - pos,
                            "{\"schema\": \"numaplace.scenario/1\",\n\"events\": [");
    for (size_t i = 0; i < n; i++)
        pos += (size_t)snprintf(text + pos, cap - pos, "%s{\"depart\": \"g\"}", i ? "," : "");
    snprintf(text + pos, cap - pos, "]}");
    np_scenario *sc = NULL;
    np_error e;
    ASSERT_EQ(parse(text, &sc, &e), -EINVAL);
    ASSERT_STR_EQ(e.origin, "sc.json");
    ASSERT_EQ(e.line, 2);
    ASSERT_CONTAINS(e.msg, "200001 events, more than the 200000 a scenario may hold");
    np_scenario_destroy(sc);
    free(text);
}

int main(void)
{
    NP_RUN(test_fixture);
    NP_RUN(test_minimal);
    NP_RUN(test_errors);
    NP_RUN(test_many_events);
    NP_RUN(test_event_cap);
    return np_test_summary();
}
