/*
 * fuzz_sim_scenario.c - np_sim_scenario_parse on arbitrary bytes; an
 * accepted scenario is walked through every accessor and its guests are
 * checked against the limits the reader promises.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <numaplace/simsuite.h>

#include "sim/scenario_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size ? size : 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    np_sim_scenario *sc = NULL;
    np_error err = {0};
    int rc = np_sim_scenario_parse(text, size, "fuzz.json", &sc, &err);
    if (rc == -EINVAL && (err.msg[0] == '\0' || sc))
        abort();
    if (rc == 0) {
        if (!np_sim_scenario_name(sc)[0] || !np_sim_scenario_host(sc)[0] ||
            np_sim_scenario_duration_ns(sc) == 0 || np_sim_scenario_nr_guests(sc) == 0 ||
            np_sim_scenario_nr_guests(sc) > NP_SIM_MAX_GUESTS)
            abort();
        for (size_t i = 0; i < sc->nr_guests; i++) {
            const sc_guest *g = &sc->guests[i];
            if (!g->g.spec.vcpus || !g->g.spec.mem_bytes ||
                g->g.spec.maxmem_bytes < g->g.spec.mem_bytes ||
                (g->leave_ns && g->leave_ns < g->g.start_ns))
                abort();
            for (size_t b = 0; b < g->nr_balloon; b++)
                if (g->balloon[b].mem_bytes > g->g.spec.maxmem_bytes)
                    abort();
        }
    }
    np_sim_scenario_destroy(sc);
    free(text);
    return 0;
}
