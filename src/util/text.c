/*
 * util/text.c - line scanner, strict integer and size parsing, file slurp.
 * Readers call these instead of atoi/strtoul so that overflow, signs and
 * trailing junk are errors, never silently accepted.
 */
#include "util/text.h"

#include <numaplace/common.h>

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void np_scanner_init(np_line_scanner *s, const char *text, size_t len)
{
    memset(s, 0, sizeof(*s));
    s->text = text;
    s->len = text ? len : 0;
}

void np_scanner_fini(np_line_scanner *s)
{
    free(s->line);
    s->line = NULL;
}


int np_scanner_next(np_line_scanner *s, const char **line_out)
{
    if (s->pos >= s->len)
        return 0;
    const char *start = s->text + s->pos;
    size_t avail = s->len - s->pos;
    const char *nl = memchr(start, '\n', avail);
    size_t n = nl ? (size_t)(nl - start) : avail;
    s->pos += nl ? n + 1 : n;
    s->lineno++;
    s->too_long = n > NP_TEXT_LINE_MAX;
    if (s->too_long)
        n = 0;
    if (n > 0 && start[n - 1] == '\r')
        n--;
    if (s->line_cap < n + 1) {
        size_t cap = n + 1 < 256 ? 256 : n + 1;
        char *nb = realloc(s->line, cap);
        if (!nb)
            return -ENOMEM;
        s->line = nb;
        s->line_cap = cap;
    }
    memcpy(s->line, start, n);
    s->line[n] = '\0';
    s->has_nul = memchr(start, '\0', n) != NULL;
    *line_out = s->line;
    return 1;
}

void np_scanner_unread(np_line_scanner *s)
{
    /* Walk back over the current line: find the start of the line that
     * ends just before s->pos. */
    if (s->lineno == 0)
        return;
    size_t end = s->pos;
    if (end > 0 && s->text[end - 1] == '\n')
        end--;
    while (end > 0 && s->text[end - 1] != '\n')
        end--;
    s->pos = end;
    s->lineno--;
}

const char *np_skip_ws(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

bool np_is_blank(const char *p)
{
    return *np_skip_ws(p) == '\0';
}

int np_parse_u64(const char **p, uint64_t max, uint64_t *out)
{
    const char *s = *p;
    uint64_t v = 0;
    if (*s < '0' || *s > '9')
        return -EINVAL;
    while (*s >= '0' && *s <= '9') {
        unsigned d = (unsigned)(*s - '0');
        if (v > (max - d) / 10)
            return -ERANGE;
        v = v * 10 + d;
        s++;
    }
    *p = s;
    *out = v;
    return 0;
}

int np_parse_u64_full(const char *text, uint64_t max, uint64_t *out)
{
    const char *p = np_skip_ws(text);
    uint64_t v;
    int rc = np_parse_u64(&p, max, &v);
    if (rc < 0)
        return rc;
    if (!np_is_blank(p))
        return -EINVAL;
    *out = v;
    return 0;
}

int np_parse_size_bytes(const char *text, uint64_t *out)
{
    const char *p = np_skip_ws(text);
    uint64_t whole;
    int rc = np_parse_u64(&p, UINT64_MAX, &whole);
    if (rc < 0)
        return rc;
    /* Optional fraction, up to 6 digits ("1.5G"). */
    uint64_t frac = 0, frac_div = 1;
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9')
            return -EINVAL;
        while (*p >= '0' && *p <= '9') {
            if (frac_div < 1000000) {
                frac = frac * 10 + (uint64_t)(*p - '0');
                frac_div *= 10;
            }
            p++;
        }
    }
    unsigned shift = 0;
    switch (*p) {
    case 'k': case 'K': shift = 10; p++; break;
    case 'm': case 'M': shift = 20; p++; break;
    case 'g': case 'G': shift = 30; p++; break;
    case 't': case 'T': shift = 40; p++; break;
    case 'b': case 'B': break;
    default: break;
    }
    if (shift) {
        if (p[0] == 'i' && (p[1] == 'B' || p[1] == 'b'))
            p += 2;
        else if (p[0] == 'B' || p[0] == 'b')
            p++;
    } else if (*p == 'B' || *p == 'b') {
        p++;
    }
    if (!np_is_blank(p))
        return -EINVAL;
    if (frac_div > 1 && shift == 0)
        return -EINVAL; /* fractional bytes make no sense */
    if (shift && whole > (UINT64_MAX >> shift))
        return -ERANGE;
    uint64_t v = whole << shift;
    if (shift) {
        uint64_t extra = (frac << shift) / frac_div; /* frac < 1e6, shift <= 40: fits */
        if (v > UINT64_MAX - extra)
            return -ERANGE;
        v += extra;
    }
    *out = v;
    return 0;
}

int np_size_parse(const char *text, uint64_t *bytes_out)
{
    return np_parse_size_bytes(text, bytes_out);
}

/* bytes / 2^shift rounded to 0 or 1 decimal places the way printf rounds
 * (to nearest, ties to even), as an integer count of units or tenths.
 * bytes < 2^53 and 10 <= shift <= 60: no overflow, and it is the exact
 * value of the double np_format_bytes would print. */
static uint64_t round_scaled(uint64_t bytes, unsigned shift, bool tenths)
{
    uint64_t x = tenths ? bytes * 10u : bytes;
    uint64_t q = x >> shift, r = x & ((UINT64_C(1) << shift) - 1);
    uint64_t half = UINT64_C(1) << (shift - 1);
    if (r > half || (r == half && (q & 1u)))
        q++;
    return q;
}

/* Appends the decimal digits of v at *p (room for 20). */
static char *put_u64(char *p, uint64_t v)
{
    char tmp[20];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v);
    while (n)
        *p++ = tmp[--n];
    return p;
}

/* Below 2^53 bytes every figure is exact in a double, and the text is
 * built with integers: the same digits printf("%.1f") gives, at a tenth
 * of the cost (placement explains each decision with these). */
#define FORMAT_EXACT_LIMIT (UINT64_C(1) << 53)

const char *np_format_bytes(uint64_t bytes, char *buf, size_t len)
{
    static const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    unsigned u = 0;
    if (bytes < FORMAT_EXACT_LIMIT) {
        char text[48], *p = text;
        while (u < 6 && bytes >> (10u * (u + 1)) != 0)
            u++;
        if (u == 0) {
            p = put_u64(p, bytes);
        } else {
            unsigned shift = 10u * u;
            bool whole = (bytes & ((UINT64_C(1) << shift) - 1)) == 0;
            if (whole || bytes >> shift >= 100u) {
                p = put_u64(p, round_scaled(bytes, shift, false));
            } else {
                uint64_t t = round_scaled(bytes, shift, true);
                p = put_u64(p, t / 10u);
                *p++ = '.';
                *p++ = (char)('0' + t % 10u);
            }
        }
        *p++ = ' ';
        size_t ul = strlen(units[u]);
        memcpy(p, units[u], ul + 1);
        p += ul;
        if (len > 0) {
            size_t n = (size_t)(p - text) < len - 1 ? (size_t)(p - text) : len - 1;
            memcpy(buf, text, n);
            buf[n] = '\0';
        }
        return buf;
    }
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

int np_read_fd(int fd, size_t max_bytes, char **buf_out, size_t *len_out)
{
    int rc = 0;
    char *buf = NULL;
    size_t len = 0, cap = 0;

    for (;;) {
        /* /proc and /sys files report size 0 and pipes have none: read until
         * EOF, doubling the buffer. */
        if (len + 4096 + 1 > cap) {
            size_t ncap = cap ? cap * 2 : 65536;
            char *nb = realloc(buf, ncap);
            if (!nb) {
                rc = -ENOMEM;
                goto out;
            }
            buf = nb;
            cap = ncap;
        }
        ssize_t r = read(fd, buf + len, cap - len - 1);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            rc = -errno;
            goto out;
        }
        if (r == 0)
            break;
        len += (size_t)r;
        if (len > max_bytes) {
            rc = -EFBIG;
            goto out;
        }
    }
    buf[len] = '\0';
    *buf_out = buf;
    *len_out = len;
    buf = NULL;
out:
    free(buf);
    return rc;
}

/* How long a named FIFO may stay without a writer before reading it
 * fails: a FIFO nobody writes to would otherwise block forever (opening it
 * blocks until a writer comes). 10 s covers `mkfifo f; cmd --from f & ...`. */
#define NP_READ_FIFO_WAIT_MS 10000

int np_read_file(const char *path, size_t max_bytes, char **buf_out, size_t *len_out)
{
    struct stat st;
    if (strcmp(path, "-") == 0)
        return np_read_fd(STDIN_FILENO, max_bytes, buf_out, len_out);
    /* O_NONBLOCK: opening a FIFO without a writer returns at once */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return -errno;
    int rc = fstat(fd, &st) < 0 ? -errno : 0;
    if (rc == 0 && S_ISDIR(st.st_mode))
        rc = -EISDIR;
    if (rc == 0 && S_ISFIFO(st.st_mode)) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int r;
        while ((r = poll(&p, 1, NP_READ_FIFO_WAIT_MS)) < 0 && errno == EINTR)
            ;
        if (r == 0)
            rc = -ETIMEDOUT; /* no writer came */
        else if (r < 0)
            rc = -errno;
    }
    if (rc == 0 && fcntl(fd, F_SETFL, 0) < 0) /* reads block again */
        rc = -errno;
    if (rc == 0)
        rc = np_read_fd(fd, max_bytes, buf_out, len_out);
    close(fd);
    return rc;
}

int np_write_file_atomic(const char *path, const char *text, size_t len, unsigned mode)
{
    char tmp[4200];
    int fd, rc = 0;

    if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >= sizeof(tmp))
        return -ENAMETOOLONG;
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, (mode_t)mode);
    if (fd < 0)
        return -errno;
    for (size_t off = 0; off < len && rc == 0;) {
        ssize_t w = write(fd, text + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            rc = w < 0 ? -errno : -EIO;
        else
            off += (size_t)w;
    }
    if (rc == 0 && fsync(fd) != 0)
        rc = -errno;
    if (close(fd) != 0 && rc == 0)
        rc = -errno;
    if (rc == 0 && rename(tmp, path) != 0)
        rc = -errno;
    if (rc)
        unlink(tmp);
    return rc;
}
