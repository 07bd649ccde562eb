/*
 * daemon/log.c - numaplaced's log: one line per event on stderr. Under
 * systemd (JOURNAL_STREAM set) each line starts with the syslog priority
 * "<3>".."<7>", which the journal turns into the entry's level; otherwise
 * the level is written as a word, with a timestamp.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
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

/* Error lines logged so far (numaplace_errors_total); the daemon logs from
 * its main thread only. */
static uint64_t error_count;

uint64_t dlog_error_count(void)
{
    return error_count;
}

static void emit(np_log_level level, const char *subsys, const char *msg)
{
    if (level == NP_LOG_ERROR)
        error_count++;
    static const int prio[] = {3, 4, 6, 7}; /* err, warning, info, debug */
    if (level > max_level)
        return;
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
