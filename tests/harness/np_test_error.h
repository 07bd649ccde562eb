/*
 * np_test_error.h - one check for "bad input was refused as it should be":
 * -EINVAL, an np_error naming the origin and line with the expected words,
 * and a formatted message that starts with "ORIGIN:LINE: " ("ORIGIN: "
 * when no line applies). Used by the readers' malformed-corpus tests.
 */
#ifndef NP_TEST_ERROR_H
#define NP_TEST_ERROR_H

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <numaplace/common.h>

#include "np_test.h"

static inline void np_test_expect_error(int rc, const np_error *err, const char *origin,
                                        unsigned line, const char *msg)
{
    ASSERT_EQ(rc, -EINVAL);
    ASSERT_STR_EQ(err->origin, origin);
    if (err->line != line)
        NP_TEST_FAIL_("%s: error on line %u, expected line %u (%s)", origin, err->line, line,
                      err->msg);
    ASSERT_CONTAINS(err->msg, msg);
    char formatted[1024], prefix[300];
    if (line)
        snprintf(prefix, sizeof(prefix), "%s:%u: ", origin, line);
    else
        snprintf(prefix, sizeof(prefix), "%s: ", origin);
    np_error_format(err, formatted, sizeof(formatted));
    ASSERT_TRUE(strncmp(formatted, prefix, strlen(prefix)) == 0);
}

#endif
