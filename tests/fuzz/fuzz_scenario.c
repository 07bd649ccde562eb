/*
 * fuzz_scenario.c - np_scenario_parse on arbitrary bytes given as a byte
 * range; an accepted scenario is walked through every accessor.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <numaplace/scenario.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size ? size : 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    np_scenario *sc = NULL;
    np_error err = {0};
    int rc = np_scenario_parse(text, size, "fuzz.json", &sc, &err);
    if (rc == -EINVAL && (err.msg[0] == '\0' || sc))
        abort();
    for (size_t i = 0; rc == 0 && i < np_scenario_nr_events(sc); i++) {
        double d;
        const char *g = np_scenario_event_guest(sc, i);
        if (!g || !g[0])
            abort();
        if ((np_scenario_event_kind_of(sc, i) == NP_SCENARIO_ARRIVE) !=
            (np_scenario_event_spec(sc, i) != NULL))
            abort();
        if (np_scenario_event_demand(sc, i, &d) == 0 && !(d >= 0.0 && d <= 1.0))
            abort();
    }
    np_scenario_destroy(sc);
    free(text);
    return 0;
}
