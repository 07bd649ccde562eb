/*
 * test_sim_spec_table.c - the specs a simulator policy placed, by name
 * (src/sim/spec_table.c), checked against a list searched from the
 * start: the same spec for every name, the last recorded winning, NULL
 * for a name never recorded, the arrival order kept across the index's
 * growth.
 */
#include <stdio.h>
#include <string.h>

#include "np_test.h"
#include "sim/spec_table.h"

#define NR_NAMES 1500u

static void name_of(size_t i, char *out, size_t len)
{
    snprintf(out, len, "guest-%zu", i);
}

/* The oracle: the last spec recorded under `name`, by a linear scan. */
static const np_guest_spec *linear_find(const np_guest_spec *log, size_t nr, const char *name)
{
    const np_guest_spec *found = NULL;
    for (size_t i = 0; i < nr; i++)
        if (strcmp(log[i].name, name) == 0)
            found = &log[i];
    return found;
}

static np_guest_spec log_specs[2 * NR_NAMES];

static void test_find_matches_linear_scan(void)
{
    sim_spec_table t = {0};
    size_t nr_log = 0;

    ASSERT_TRUE(sim_spec_table_find(&t, "guest-0") == NULL); /* empty, no index yet */
    /* every name once, then every third again with other figures */
    for (size_t round = 0; round < 2; round++) {
        for (size_t i = 0; i < NR_NAMES; i += round ? 3 : 1) {
            np_guest_spec s;
            memset(&s, 0, sizeof(s));
            name_of(i, s.name, sizeof(s.name));
            s.vcpus = (uint32_t)(1 + i % 7 + 10 * round);
            s.mem_bytes = (uint64_t)(i + 1) << 20;
            ASSERT_EQ(sim_spec_table_record(&t, &s), 0);
            log_specs[nr_log++] = s;
        }
    }
    ASSERT_EQ(t.nr, NR_NAMES);
    for (size_t i = 0; i < NR_NAMES + 10; i++) {
        char name[NP_GUEST_NAME_MAX];
        name_of(i, name, sizeof(name));
        const np_guest_spec *want = linear_find(log_specs, nr_log, name);
        const np_guest_spec *got = sim_spec_table_find(&t, name);
        ASSERT_TRUE((want == NULL) == (got == NULL));
        if (want && got) {
            ASSERT_STR_EQ(got->name, want->name);
            ASSERT_EQ(got->vcpus, want->vcpus);
            ASSERT_U64_EQ(got->mem_bytes, want->mem_bytes);
        }
        /* arrival order: the i-th name recorded is at position i */
        if (i < NR_NAMES)
            ASSERT_STR_EQ(t.specs[i].name, name);
    }
    ASSERT_TRUE(sim_spec_table_find(&t, "") == NULL);
    ASSERT_TRUE(sim_spec_table_find(NULL, "guest-1") == NULL);
    sim_spec_table_fini(&t);
    ASSERT_EQ(t.nr, 0);
    ASSERT_TRUE(sim_spec_table_find(&t, "guest-1") == NULL);
    sim_spec_table_fini(&t); /* twice: a no-op */
}

int main(void)
{
    NP_RUN(test_find_matches_linear_scan);
    return np_test_summary();
}
