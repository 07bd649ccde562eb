/*
 * topo/text_tables.h - small helpers shared by the two text readers
 * (`numactl --hardware` and `xl info -n`): rejecting lines that are not
 * text, reading one bounded decimal with a phrase saying what went wrong,
 * quoting the offending token in a message, and putting the origin on an
 * error that came back from the topology builder.
 *
 * Both readers report "origin:line: expected X, found Y"; these helpers
 * produce the "found Y" half so the two formats word it the same way.
 */
#ifndef NP_TOPO_TEXT_TABLES_H
#define NP_TOPO_TEXT_TABLES_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <numaplace/common.h>

#include "util/error.h"
#include "util/text.h"

/* A node's distance to itself: ACPI SLIT fixes it at 10 and Linux and Xen
 * reject tables that differ, so any other value means damaged input (a cut
 * "10" reads as "1"). */
#define NP_TT_LOCAL_DISTANCE 10

/* Longest token quoted back in an error message; longer ones end in "...". */
#define NP_TT_QUOTE_MAX 24

/* Writes the token at p (up to the next blank) as 'token' into buf, with
 * bytes that are not printable ASCII shown as '?', or "the end of the line"
 * when nothing is left. Returns buf. */
static inline const char *np_tt_quote(const char *p, char *buf, size_t len)
{
    size_t n = 0, o = 0;
    p = np_skip_ws(p);
    if (*p == '\0') {
        snprintf(buf, len, "the end of the line");
        return buf;
    }
    if (len < NP_TT_QUOTE_MAX + 8) { /* callers pass a buffer of the right size */
        snprintf(buf, len, "'?'");
        return buf;
    }
    buf[o++] = '\'';
    while (p[n] && p[n] != ' ' && p[n] != '\t' && n < NP_TT_QUOTE_MAX) {
        unsigned char ch = (unsigned char)p[n];
        buf[o++] = (ch >= 0x20 && ch < 0x7f) ? (char)ch : '?';
        n++;
    }
    if (p[n] && p[n] != ' ' && p[n] != '\t') {
        memcpy(buf + o, "...", 3);
        o += 3;
    }
    buf[o++] = '\'';
    buf[o] = '\0';
    return buf;
}

#define NP_TT_QUOTE_BUF (NP_TT_QUOTE_MAX + 8)

/* Reads an unsigned decimal at *p, at most max, and advances *p. On failure
 * returns -EINVAL and writes what was found into why ("a negative number",
 * "a number larger than 1023", "'abc'"), so the caller can say
 * "expected <what>, found <why>". */
static inline int np_tt_uint(const char **p, uint64_t max, uint64_t *out, char *why,
                             size_t why_len)
{
    const char *s = *p;
    int rc = np_parse_u64(&s, max, out);
    if (rc == 0) {
        *p = s;
        return 0;
    }
    if (**p == '-' && (*p)[1] >= '0' && (*p)[1] <= '9')
        snprintf(why, why_len, "a negative number");
    else if (rc == -ERANGE)
        snprintf(why, why_len, "a number larger than %llu", (unsigned long long)max);
    else
        np_tt_quote(*p, why, why_len);
    return -EINVAL;
}

/* Size of the buffer np_tt_uint() writes its phrase into. */
#define NP_TT_WHY_BUF 64

/* True when the text at *p starts with word; then *p moves past it. */
static inline bool np_tt_eat(const char **p, const char *word)
{
    size_t n = strlen(word);
    if (strncmp(*p, word, n) != 0)
        return false;
    *p += n;
    return true;
}

/* Checks the line the scanner just returned is text a reader can look at. */
static inline int np_tt_check_line(const np_line_scanner *s, const char *origin, np_error *err)
{
    if (s->too_long)
        return np_error_set(err, origin, s->lineno,
                            "line is longer than %u bytes; expected a line of text",
                            (unsigned)NP_TEXT_LINE_MAX);
    if (s->has_nul)
        return np_error_set(err, origin, s->lineno,
                            "line contains a NUL byte; expected text, not binary data");
    return 0;
}

/* The builder fills msg but leaves origin alone; name the input. */
static inline void np_tt_set_origin(np_error *err, const char *origin)
{
    if (err)
        snprintf(err->origin, sizeof(err->origin), "%s", origin);
}

#include <numaplace/topology.h>

/* A builder named "PREFIX:ORIGIN" (e.g. "numactl:host.txt"), the name both
 * text readers give their topologies. */
int np_tt_builder_create(const char *prefix, const char *origin, np_topology_builder **out);
/* Finishes the builder (a builder error gets the origin on it), destroys it
 * in every case, and hands back the topology. */
int np_tt_builder_finish(np_topology_builder *b, const char *origin, np_error *err,
                         np_topology **out);

#endif
