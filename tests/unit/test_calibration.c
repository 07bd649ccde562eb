/* The calibration: data/calibration.conf (the documented figures) and the
 * table the library compiles in say the same thing, entry for entry; every
 * entry has a source and a status; the latency classes and the SMT speed
 * come out as documented; hoststate's SMT capacity is the same constant. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/calibration.h"
#include "np_test.h"
#include <numaplace/hoststate.h>

#define CONF_PATH NP_FIXTURES_DIR "/../../data/calibration.conf"
#define MAX_LINES 64

typedef struct conf_line {
    char name[64];
    double value;
    char unit[16];
    char status[16];
    char source[256];
    int lineno;
} conf_line;

/* Reads the constants (non-comment, non-blank lines): NAME VALUE UNIT
 * STATUS SOURCE... Returns the count, -1 when the file cannot be read or a
 * line is malformed (the message says which). */
static int read_conf(conf_line *out, int max)
{
    FILE *f = fopen(CONF_PATH, "r");
    char buf[1024];
    int n = 0, lineno = 0;
    if (!f) {
        fprintf(stderr, "%s: cannot open\n", CONF_PATH);
        return -1;
    }
    while (fgets(buf, sizeof(buf), f)) {
        lineno++;
        char *p = buf;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '#' || *p == '\n' || *p == '\0')
            continue;
        if (n >= max) {
            n = -1;
            break;
        }
        conf_line *l = &out[n];
        int used = 0;
        char value[32];
        if (sscanf(p, "%63s %31s %15s %15s %n", l->name, value, l->unit, l->status, &used) != 4) {
            fprintf(stderr, "%s:%d: expected NAME VALUE UNIT STATUS SOURCE\n", CONF_PATH, lineno);
            n = -1;
            break;
        }
        char *end = NULL;
        l->value = strtod(value, &end);
        if (!end || *end != '\0') {
            fprintf(stderr, "%s:%d: value '%s' is not a number\n", CONF_PATH, lineno, value);
            n = -1;
            break;
        }
        snprintf(l->source, sizeof(l->source), "%s", p + used);
        l->lineno = lineno;
        n++;
    }
    fclose(f);
    return n;
}

static void test_file_matches_table(void)
{
    static conf_line lines[MAX_LINES];
    int n = read_conf(lines, MAX_LINES);
    ASSERT_TRUE(n > 0);
    if (n <= 0)
        return;
    ASSERT_EQ((size_t)n, np_calib_count());
    for (int i = 0; i < n && (size_t)i < np_calib_count(); i++) {
        const np_calib_entry *e = np_calib_entry_at((size_t)i);
        const conf_line *l = &lines[i];
        if (strcmp(e->name, l->name) != 0)
            fprintf(stderr, "%s:%d: table has %s here\n", CONF_PATH, l->lineno, e->name);
        ASSERT_STR_EQ(e->name, l->name);
        if (fabs(e->value - l->value) > 1e-12)
            fprintf(stderr, "%s:%d: %s is %g in the file, %g in the table\n", CONF_PATH,
                    l->lineno, l->name, l->value, e->value);
        ASSERT_TRUE(fabs(e->value - l->value) <= 1e-12);
        ASSERT_STR_EQ(e->unit, l->unit);
        ASSERT_STR_EQ(np_calib_status_name(e->status), l->status);
        ASSERT_TRUE(strlen(l->source) > 10); /* every constant names its source */
    }
}

static void test_latency_classes(void)
{
    ASSERT_TRUE(np_calib_slit_ratio(10, 10) == 1.0);
    ASSERT_TRUE(np_calib_slit_ratio(12, 10) == NP_CALIB_LAT_RATIO_NEAR);
    ASSERT_TRUE(np_calib_slit_ratio(16, 10) == NP_CALIB_LAT_RATIO_NEAR);
    ASSERT_TRUE(np_calib_slit_ratio(20, 10) == NP_CALIB_LAT_RATIO_SOCKET);
    ASSERT_TRUE(np_calib_slit_ratio(22, 10) == NP_CALIB_LAT_RATIO_SOCKET);
    ASSERT_TRUE(np_calib_slit_ratio(30, 10) == NP_CALIB_LAT_RATIO_FAR);
    ASSERT_TRUE(np_calib_slit_ratio(40, 10) == NP_CALIB_LAT_RATIO_FAR);
    /* hwloc-scaled matrices (local 100) land in the same classes */
    ASSERT_TRUE(np_calib_slit_ratio(210, 100) == NP_CALIB_LAT_RATIO_SOCKET);
    ASSERT_TRUE(np_calib_slit_ratio(5, 10) == 1.0);
    /* classes are ordered: farther never cheaper */
    ASSERT_TRUE(NP_CALIB_LAT_RATIO_NEAR < NP_CALIB_LAT_RATIO_SOCKET);
    ASSERT_TRUE(NP_CALIB_LAT_RATIO_SOCKET < NP_CALIB_LAT_RATIO_FAR);
}

static void test_smt(void)
{
    /* two busy siblings do 1.2 cores of work: 0.6 each */
    ASSERT_TRUE(fabs(np_calib_smt_shared_speed() - 0.6) < 1e-12);
    /* placement's node capacity counts a thread with the same figure */
    ASSERT_TRUE(NP_LOAD_SMT_THREAD_CAPACITY == NP_CALIB_SMT_THREAD_YIELD);
}

int main(void)
{
    NP_RUN(test_file_matches_table);
    NP_RUN(test_latency_classes);
    NP_RUN(test_smt);
    return np_test_summary();
}
