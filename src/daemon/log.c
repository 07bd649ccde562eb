/*
 * daemon/log.c - numaplaced's log: one line per event on stderr. Under
 * systemd (JOURNAL_STREAM set) each line starts with the syslog priority
 * "<3>".."<7>", which the journal turns into the entry's level; otherwise
 * the level is written as a word, with a timestamp. Bytes below 0x20 and
 * 0x7f (from guest names, which any process can choose) are written as
 * \xNN, so nothing logged can forge a line or drive a terminal.
 *
 * An error or warning identical to the one just logged (a cgroup that
 * vanished fails every round) is counted, not repeated: the next different
 * line is preceded by "last message repeated N times". Lines may come from
 * several threads; one mutex orders them.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon.h"

static np_log_level max_level = NP_LOG_INFO;
static const char *id_word = "pid";
static int journal = -1;

void dlog_init(np_log_level level)
{
    max_level = level;
    journal = getenv("JOURNAL_STREAM") != NULL;
}

void dlog_set_id_word(const char *word)
{
    id_word = word;
}

const char *dlog_id_word(void)
{
    return id_word;
}

void dlog_set_level(np_log_level level)
{
    max_level = level;
}

/* msg with its control bytes escaped, into out (cap bytes, truncated). */
static const char *escape(const char *msg, char *out, size_t cap)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)msg; *p && o + 5 < cap; p++) {
        if (*p < 0x20 || *p == 0x7f) {
            out[o++] = '\\';
            out[o++] = 'x';
            out[o++] = hex[*p >> 4];
            out[o++] = hex[*p & 15];
        } else {
            out[o++] = (char)*p;
        }
    }
    out[o] = '\0';
    return out;
}

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
/* Error lines logged so far, repeats included (numaplace_errors_total);
 * under lock, as the mover thread logs too. */
static uint64_t error_count;

uint64_t dlog_error_count(void)
{
    pthread_mutex_lock(&lock);
    uint64_t n = error_count;
    pthread_mutex_unlock(&lock);
    return n;
}
static char last[4096]; /* the last error or warning written */
static np_log_level last_level;
static unsigned long repeats; /* of last, not written */

static void write_line(np_log_level level, const char *subsys, const char *msg);

/* True when msg repeats the last error or warning (then only counted);
 * else writes the count of the repeats of the previous one, if any. */
static bool repeated(np_log_level level, const char *subsys, const char *msg)
{
    bool same = level <= NP_LOG_WARNING && !subsys && last[0] && level == last_level &&
                strcmp(msg, last) == 0;
    if (same) {
        repeats++;
        return true;
    }
    if (repeats) {
        char note[64];
        snprintf(note, sizeof(note), "last message repeated %lu times", repeats);
        write_line(last_level, NULL, note);
        repeats = 0;
    }
    last[0] = '\0';
    if (level <= NP_LOG_WARNING && !subsys) {
        snprintf(last, sizeof(last), "%s", msg);
        last_level = level;
    }
    return false;
}

static void emit(np_log_level level, const char *subsys, const char *raw)
{
    char msg[4096];
    if (level > max_level)
        return;
    escape(raw, msg, sizeof(msg));
    pthread_mutex_lock(&lock);
    if (level == NP_LOG_ERROR)
        error_count++;
    if (!repeated(level, subsys, msg))
        write_line(level, subsys, msg);
    pthread_mutex_unlock(&lock);
}

static void write_line(np_log_level level, const char *subsys, const char *msg)
{
    static const int prio[] = {3, 4, 6, 7}; /* err, warning, info, debug */
    if (journal == 1) {
        fprintf(stderr, "<%d>%s%s%s\n", prio[level], subsys ? subsys : "", subsys ? ": " : "",
                msg);
    } else {
        struct timespec ts;
        struct tm tm;
        char when[32] = "";
        clock_gettime(CLOCK_REALTIME, &ts);
        if (gmtime_r(&ts.tv_sec, &tm))
            strftime(when, sizeof(when), "%H:%M:%S", &tm);
        fprintf(stderr, "%s.%03ld numaplaced %s: %s%s%s\n", when, ts.tv_nsec / 1000000L,
                np_log_level_name(level), subsys ? subsys : "", subsys ? ": " : "", msg);
    }
    fflush(stderr);
}

void dlog(np_log_level level, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    emit(level, NULL, buf);
}

void dlog_sink(void *opaque, np_log_level level, const char *subsys, const char *msg)
{
    (void)opaque;
    emit(level, subsys, msg);
}

const char *dlog_mib(uint64_t bytes, char *buf, size_t len)
{
    snprintf(buf, len, "%.1f MiB", (double)bytes / (1024.0 * 1024.0));
    return buf;
}
