/*
 * np_test.h - the tiny test harness every unit test program uses.
 *
 *   static void test_parse(void) { ASSERT_EQ(np_parse(...), 0); }
 *   int main(void) { NP_RUN(test_parse); return np_test_summary(); }
 *
 * Assertions print both sides on failure and mark the running test as
 * failed (the test goes on, so one run shows every broken check). The
 * program ends with the line "N passed, N failed" and exits non-zero when
 * anything failed. Set NP_TEST_FILTER=substring to run only matching tests.
 */
#ifndef NP_TEST_H
#define NP_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__attribute__((unused)) static int np_test_passed, np_test_failed, np_test_cur_failed;
__attribute__((unused)) static const char *np_test_cur_name;

#define NP_TEST_FAIL_(...)                                                                         \
    do {                                                                                           \
        fprintf(stderr, "%s:%d: in %s: ", __FILE__, __LINE__, np_test_cur_name);                    \
        fprintf(stderr, __VA_ARGS__);                                                              \
        fputc('\n', stderr);                                                                       \
        np_test_cur_failed = 1;                                                                    \
    } while (0)

#define ASSERT_TRUE(cond)                                                                          \
    do {                                                                                           \
        if (!(cond))                                                                               \
            NP_TEST_FAIL_("expected true: %s", #cond);                                             \
    } while (0)

#define ASSERT_EQ(a, b)                                                                            \
    do {                                                                                           \
        long long np_a_ = (long long)(a), np_b_ = (long long)(b);                                  \
        if (np_a_ != np_b_)                                                                        \
            NP_TEST_FAIL_("%s == %s: %lld != %lld", #a, #b, np_a_, np_b_);                         \
    } while (0)

#define ASSERT_U64_EQ(a, b)                                                                        \
    do {                                                                                           \
        uint64_t np_a_ = (uint64_t)(a), np_b_ = (uint64_t)(b);                                     \
        if (np_a_ != np_b_)                                                                        \
            NP_TEST_FAIL_("%s == %s: %" PRIu64 " != %" PRIu64, #a, #b, np_a_, np_b_);              \
    } while (0)

#define ASSERT_STR_EQ(a, b)                                                                        \
    do {                                                                                           \
        const char *np_a_ = (a), *np_b_ = (b);                                                     \
        if (!np_a_ || !np_b_ || strcmp(np_a_, np_b_) != 0)                                         \
            NP_TEST_FAIL_("%s == %s: \"%s\" != \"%s\"", #a, #b, np_a_ ? np_a_ : "(null)",          \
                          np_b_ ? np_b_ : "(null)");                                               \
    } while (0)

/* Substring check, for error messages. */
#define ASSERT_CONTAINS(hay, needle)                                                               \
    do {                                                                                           \
        const char *np_h_ = (hay), *np_n_ = (needle);                                              \
        if (!np_h_ || !strstr(np_h_, np_n_))                                                       \
            NP_TEST_FAIL_("%s contains \"%s\": got \"%s\"", #hay, np_n_, np_h_ ? np_h_ : "(null)"); \
    } while (0)

#define NP_RUN(fn)                                                                                 \
    do {                                                                                           \
        const char *np_f_ = getenv("NP_TEST_FILTER");                                              \
        if (np_f_ && !strstr(#fn, np_f_))                                                          \
            break;                                                                                 \
        np_test_cur_name = #fn;                                                                    \
        np_test_cur_failed = 0;                                                                    \
        fn();                                                                                      \
        if (np_test_cur_failed) {                                                                  \
            np_test_failed++;                                                                      \
            fprintf(stderr, "FAIL %s\n", #fn);                                                     \
        } else {                                                                                   \
            np_test_passed++;                                                                      \
        }                                                                                          \
    } while (0)

static inline int np_test_summary(void)
{
    printf("%d passed, %d failed\n", np_test_passed, np_test_failed);
    return np_test_failed ? 1 : (np_test_passed ? 0 : 1);
}

/* A test program that cannot run here (a library this build lacks) says
 * why and returns 77, which CTest reports as skipped (SKIP_RETURN_CODE). */
static inline int np_test_skip(const char *why)
{
    printf("SKIP: %s\n", why);
    return 77;
}

/* Directory of tests/fixtures, passed by CMake as a compile definition. */
#ifndef NP_FIXTURES_DIR
#define NP_FIXTURES_DIR "tests/fixtures"
#endif

#endif
