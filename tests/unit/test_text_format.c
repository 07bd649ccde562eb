/*
 * test_text_format.c - np_format_bytes() builds its text with integers
 * below 2^53 bytes; it must print exactly what printf("%.1f"/"%.0f") of
 * the scaled double prints (the reference below, the former code), for
 * round values, exact ties (printf rounds them to even), values next to
 * every unit boundary and seeded random sizes, and truncate like snprintf.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "np_test.h"
#include "util/text.h"

static const char *reference(uint64_t bytes, char *buf, size_t len)
{
    static const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    unsigned u = 0;
    double v = (double)bytes;
    while (v >= 1024.0 && u < 6) {
        v /= 1024.0;
        u++;
    }
    if (u == 0)
        snprintf(buf, len, "%llu B", (unsigned long long)bytes);
    else if (v >= 100.0 || v == (double)(uint64_t)v)
        snprintf(buf, len, "%.0f %s", v, units[u]);
    else
        snprintf(buf, len, "%.1f %s", v, units[u]);
    return buf;
}

static unsigned mismatches;

static void check(uint64_t bytes)
{
    char got[40], want[40];
    np_format_bytes(bytes, got, sizeof(got));
    reference(bytes, want, sizeof(want));
    if (strcmp(got, want) != 0 && mismatches++ < 10)
        ASSERT_STR_EQ(got, want);
}

static void test_known_texts(void)
{
    char buf[32];
    ASSERT_STR_EQ(np_format_bytes(0, buf, sizeof(buf)), "0 B");
    ASSERT_STR_EQ(np_format_bytes(1023, buf, sizeof(buf)), "1023 B");
    ASSERT_STR_EQ(np_format_bytes(1024, buf, sizeof(buf)), "1 KiB");
    ASSERT_STR_EQ(np_format_bytes(UINT64_C(3) << 29, buf, sizeof(buf)), "1.5 GiB");
    ASSERT_STR_EQ(np_format_bytes(UINT64_C(512) << 20, buf, sizeof(buf)), "512 MiB");
    /* 1.25 KiB is a tie between 1.2 and 1.3: printf rounds to even */
    ASSERT_STR_EQ(np_format_bytes(1280, buf, sizeof(buf)), "1.2 KiB");
    ASSERT_STR_EQ(np_format_bytes(1792, buf, sizeof(buf)), "1.8 KiB"); /* 1.75 */
    /* 100.5 KiB rounds to even with no decimal */
    ASSERT_STR_EQ(np_format_bytes(100 * 1024 + 512, buf, sizeof(buf)), "100 KiB");
    ASSERT_STR_EQ(np_format_bytes(101 * 1024 + 512, buf, sizeof(buf)), "102 KiB");
    /* just under a unit rounds up to 1024 of the smaller one */
    ASSERT_STR_EQ(np_format_bytes((UINT64_C(1) << 30) - 1, buf, sizeof(buf)), "1024 MiB");
}

static void test_matches_printf(void)
{
    mismatches = 0;
    for (uint64_t b = 0; b < 300000; b++)
        check(b);
    /* around every unit boundary, every tenth and every half-tenth tie */
    for (unsigned u = 1; u <= 5; u++) {
        unsigned shift = 10u * u;
        for (uint64_t whole = 1; whole < 1024; whole += whole < 110 ? 1 : 37) {
            uint64_t base = whole << shift;
            for (int tenth = 0; tenth < 20; tenth++) {
                /* the exact tie (tenth + 1/2) / 10 of a unit, and its neighbours */
                uint64_t tie = base + (((uint64_t)(2 * tenth + 1) << shift) / 20);
                for (int d = -2; d <= 2; d++)
                    if (tie + (uint64_t)d < (UINT64_C(1) << 53))
                        check(tie + (uint64_t)d);
            }
            for (int d = -3; d <= 3; d++)
                check(base + (uint64_t)d);
        }
    }
    uint64_t s = UINT64_C(0x9e3779b97f4a7c15);
    for (int i = 0; i < 200000; i++) {
        s ^= s >> 12;
        s ^= s << 25;
        s ^= s >> 27;
        uint64_t r = s * UINT64_C(2685821657736338717);
        check(r >> (11 + (unsigned)(r % 40))); /* sizes of every magnitude below 2^53 */
    }
    check(UINT64_C(1) << 53); /* the double path from here on */
    check(UINT64_MAX);
    ASSERT_EQ(mismatches, 0);
}

static void test_truncates_like_snprintf(void)
{
    char got[8], want[8];
    for (size_t len = 1; len <= sizeof(got); len++) {
        memset(got, 'x', sizeof(got));
        memset(want, 'x', sizeof(want));
        np_format_bytes(UINT64_C(3) << 29, got, len);
        reference(UINT64_C(3) << 29, want, len);
        ASSERT_TRUE(memcmp(got, want, sizeof(got)) == 0);
    }
}

int main(void)
{
    NP_RUN(test_known_texts);
    NP_RUN(test_matches_printf);
    NP_RUN(test_truncates_like_snprintf);
    return np_test_summary();
}
