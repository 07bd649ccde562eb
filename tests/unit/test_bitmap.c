/* Bitmap operations checked against a plain bool[] oracle on random input. */
#include <errno.h>
#include <stdbool.h>

#include <numaplace/bitmap.h>

#include "np_test.h"

static void test_format_parse(void)
{
    np_bitmap *m = NULL;
    char buf[64];
    ASSERT_EQ(np_bitmap_create(&m), 0);
    ASSERT_EQ(np_bitmap_parse(m, "0-3,8,10-11"), 0);
    ASSERT_EQ(np_bitmap_count(m), 7);
    np_bitmap_format(m, buf, sizeof(buf));
    ASSERT_STR_EQ(buf, "0-3,8,10-11");
    ASSERT_EQ(np_bitmap_parse(m, "3-1"), -EINVAL);
    ASSERT_EQ(np_bitmap_parse(m, "1,"), -EINVAL);
    ASSERT_EQ(np_bitmap_parse(m, "x"), -EINVAL);
    ASSERT_EQ(np_bitmap_parse(m, "99999999999"), -EINVAL);
    ASSERT_EQ(np_bitmap_count(m), 7); /* unchanged after errors */
    ASSERT_EQ(np_bitmap_parse(m, ""), 0);
    ASSERT_TRUE(np_bitmap_is_empty(m));
    np_bitmap_format(m, buf, sizeof(buf));
    ASSERT_STR_EQ(buf, "");
    np_bitmap_destroy(m);
}

static void test_truncated_format(void)
{
    np_bitmap *m = NULL;
    char buf[4];
    ASSERT_EQ(np_bitmap_create(&m), 0);
    ASSERT_EQ(np_bitmap_parse(m, "100,200,300"), 0);
    size_t need = np_bitmap_format(m, buf, sizeof(buf));
    ASSERT_EQ(need, 11);
    ASSERT_TRUE(strlen(buf) < sizeof(buf));
    np_bitmap_destroy(m);
}

static void test_against_oracle(void)
{
    enum { N = 300 };
    unsigned seed = 12345;
    for (int round = 0; round < 200; round++) {
        bool a[N] = {0}, b[N] = {0};
        np_bitmap *ma = NULL, *mb = NULL;
        np_bitmap_create(&ma);
        np_bitmap_create(&mb);
        for (int k = 0; k < 40; k++) {
            seed = seed * 1103515245u + 12345u;
            unsigned id = (seed >> 8) % N;
            if (k & 1) { a[id] = true; np_bitmap_set(ma, id); }
            else { b[id] = true; np_bitmap_set(mb, id); }
        }
        unsigned ca = 0;
        bool inter = false, eq = true;
        for (int i = 0; i < N; i++) {
            ca += a[i];
            inter |= a[i] && b[i];
            eq &= a[i] == b[i];
            ASSERT_EQ(np_bitmap_test(ma, (unsigned)i), a[i]);
        }
        ASSERT_EQ(np_bitmap_count(ma), ca);
        ASSERT_EQ(np_bitmap_intersects(ma, mb), inter);
        ASSERT_EQ(np_bitmap_equal(ma, mb), eq);
        /* iteration visits exactly the set ids in order */
        int prev = -1;
        unsigned seen = 0;
        for (int i = np_bitmap_next(ma, 0); i >= 0; i = np_bitmap_next(ma, (unsigned)i + 1)) {
            ASSERT_TRUE(i > prev && a[i]);
            prev = i;
            seen++;
        }
        ASSERT_EQ(seen, ca);
        /* format then parse round-trips */
        char buf[2048];
        np_bitmap_format(ma, buf, sizeof(buf));
        np_bitmap *mc = NULL;
        np_bitmap_create(&mc);
        ASSERT_EQ(np_bitmap_parse(mc, buf), 0);
        ASSERT_TRUE(np_bitmap_equal(ma, mc));
        np_bitmap_or(mc, mb);
        np_bitmap_and(ma, mb);
        for (int i = 0; i < N; i++) {
            ASSERT_EQ(np_bitmap_test(mc, (unsigned)i), a[i] || b[i]);
            ASSERT_EQ(np_bitmap_test(ma, (unsigned)i), a[i] && b[i]);
        }
        np_bitmap_destroy(ma);
        np_bitmap_destroy(mb);
        np_bitmap_destroy(mc);
    }
}

static void test_range_limits(void)
{
    np_bitmap *m = NULL;
    np_bitmap_create(&m);
    ASSERT_EQ(np_bitmap_set(m, NP_BITMAP_MAX_ID + 1), -ERANGE);
    ASSERT_EQ(np_bitmap_set(m, 1000), 0);
    ASSERT_EQ(np_bitmap_next(m, 0), 1000);
    ASSERT_EQ(np_bitmap_next(m, 1001), -1);
    np_bitmap_clear(m, 1000);
    ASSERT_TRUE(np_bitmap_is_empty(m));
    np_bitmap_destroy(m);
}

int main(void)
{
    NP_RUN(test_format_parse);
    NP_RUN(test_truncated_format);
    NP_RUN(test_against_oracle);
    NP_RUN(test_range_limits);
    return np_test_summary();
}
