/*
 * util/text.h - line-oriented scanning and strict number parsing for the
 * text readers (numactl -H, xl info -n, scenario options).
 *
 * Input is a byte range that need not be NUL-terminated and may contain
 * anything (binary junk included); the scanner hands out one line at a time
 * as a NUL-terminated copy with its 1-based number, so parsers can report
 * "file:LINE: expected ...".
 */
#ifndef NP_UTIL_TEXT_H
#define NP_UTIL_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest line a reader accepts; longer lines are an error, not truncated. */
#define NP_TEXT_LINE_MAX 65536

typedef struct np_line_scanner {
    const char *text;
    size_t len;
    size_t pos;
    unsigned lineno;  /* number of the line last returned */
    char *line;       /* heap buffer holding the current line */
    size_t line_cap;
    bool too_long;    /* the last line exceeded NP_TEXT_LINE_MAX */
    bool has_nul;     /* the last line contained a NUL byte */
} np_line_scanner;

void np_scanner_init(np_line_scanner *s, const char *text, size_t len);
void np_scanner_fini(np_line_scanner *s);
/* Next line without its "\n" or "\r\n": 1 when a line was read, 0 at end,
 * -ENOMEM. Sets too_long / has_nul for the caller to reject. */
int np_scanner_next(np_line_scanner *s, const char **line_out);
/* Push the current line back so the next call returns it again. */
void np_scanner_unread(np_line_scanner *s);

/* FNV-1a of a NUL-terminated string: the hash of the guest-name tables
 * (host state, the simulator's spec table); names are short. */
static inline uint64_t np_text_hash(const char *s)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        h ^= *p;
        h *= UINT64_C(0x100000001b3);
    }
    return h;
}

/* Skip spaces and tabs. */
const char *np_skip_ws(const char *p);
/* Whole-string checks: the text is only blanks. */
bool np_is_blank(const char *p);

/* Parse an unsigned decimal integer at *p (no sign, no leading blanks
 * skipped), at most `max`; advances *p. -EINVAL when no digit, -ERANGE
 * above max. */
int np_parse_u64(const char **p, uint64_t max, uint64_t *out);
/* Same, then requires the string to end (after optional blanks). */
int np_parse_u64_full(const char *text, uint64_t max, uint64_t *out);
/* A size with an optional binary suffix: "512M", "8G", "1.5G", "4096" (bytes),
 * "64K", "2T", also "MiB"/"GiB"/"MB"/"GB" (all binary). */
int np_parse_size_bytes(const char *text, uint64_t *out);
/* Formats bytes as "1.5 GiB" / "512 MiB" / "0 B". */
const char *np_format_bytes(uint64_t bytes, char *buf, size_t len);

/* Read an open descriptor to EOF into a NUL-terminated heap buffer, at most
 * max_bytes (-EFBIG beyond). The descriptor stays open. */
int np_read_fd(int fd, size_t max_bytes, char **buf_out, size_t *len_out);
/* Read a whole file ("-" = stdin) into a heap buffer, at most max_bytes.
 * -errno on failure, -EFBIG when larger. */
int np_read_file(const char *path, size_t max_bytes, char **buf_out, size_t *len_out);

#endif
