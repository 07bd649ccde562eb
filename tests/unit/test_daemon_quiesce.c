/*
 * test_daemon_quiesce.c - the guardian of the mover's quiesced steps
 * (src/daemon/quiesce.c) on real processes of this machine: a "guest"
 * child that loops, stopped and resumed through dquiesce_fn; a guest a
 * "daemon" process stopped stays stopped for no longer than it takes the
 * guardian to see that daemon killed with SIGKILL; a record a previous
 * run left resumes its guest at the next start (and not a process whose
 * start time differs: a reused PID); a guest someone else stopped is
 * neither stopped again nor resumed.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "daemon/daemon.h"
#include "daemon/quiesce.h"
#include "np_test.h"

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

/* State letter and start time from /proc/PID/stat ('?' when unreadable). */
static char state_of(pid_t pid, unsigned long long *start)
{
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return '?';
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    if (!p || !p[1] || !p[2])
        return '?';
    char st = p[2];
    if (start) {
        p += 2;
        for (int field = 3; field < 22 && p; field++) {
            p = strchr(p, ' ');
            if (p)
                p++;
        }
        *start = p ? strtoull(p, NULL, 10) : 0;
    }
    return st;
}

/* Waits up to ms for pid's state to be (stopped) or not be a stop. */
static bool wait_state(pid_t pid, bool stopped, unsigned ms)
{
    for (unsigned waited = 0;; waited += 5) {
        char st = state_of(pid, NULL);
        if ((st == 'T' || st == 't') == stopped)
            return true;
        if (waited >= ms)
            return false;
        sleep_ms(5);
    }
}

static pid_t spawn_guest(void)
{
    pid_t pid = fork();
    if (pid == 0) {
        for (;;)
            sleep_ms(2);
    }
    return pid;
}

static void reap(pid_t pid)
{
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

static char record[128];

static void test_stop_and_resume(void)
{
    dquiesce *q = NULL;
    pid_t g = spawn_guest();
    ASSERT_TRUE(g > 0);
    ASSERT_EQ(dquiesce_create(record, &q), 0);
    ASSERT_EQ(dquiesce_fn(q, g, true), 0);
    ASSERT_TRUE(wait_state(g, true, 2000));
    ASSERT_EQ(access(record, F_OK), 0); /* recorded while stopped */
    ASSERT_EQ(dquiesce_fn(q, g, true), -EBUSY); /* one stop of a guest at a time */
    ASSERT_EQ(dquiesce_fn(q, g, false), 0);
    ASSERT_TRUE(wait_state(g, false, 2000));
    ASSERT_TRUE(access(record, F_OK) != 0); /* gone once resumed */
    ASSERT_EQ(dquiesce_fn(q, g, false), -ENOENT);
    dquiesce_destroy(q);
    reap(g);
}

/* A "daemon" process that stops g1 (and g2 when > 0) through its
 * guardian, then waits to be killed; returns its PID once both are
 * stopped. */
static pid_t daemon_stopping(pid_t g1, pid_t g2)
{
    int p[2];
    char c = 0;
    ASSERT_EQ(pipe(p), 0);
    pid_t d = fork();
    if (d == 0) {
        dquiesce *q = NULL;
        close(p[0]);
        if (dquiesce_create(record, &q) || dquiesce_fn(q, g1, true) ||
            (g2 > 0 && dquiesce_fn(q, g2, true)))
            _exit(1);
        if (write(p[1], "s", 1) != 1)
            _exit(1);
        for (;;)
            pause();
    }
    close(p[1]);
    ASSERT_EQ(read(p[0], &c, 1), 1);
    close(p[0]);
    ASSERT_TRUE(wait_state(g1, true, 2000));
    ASSERT_TRUE(g2 <= 0 || wait_state(g2, true, 2000));
    return d;
}

/* A "daemon" process stops the guest through the guardian, then is
 * killed -9: the guardian resumes the guest. */
static void test_kill9_resumes(void)
{
    pid_t g = spawn_guest();
    ASSERT_TRUE(g > 0);
    pid_t d = daemon_stopping(g, 0);
    kill(d, SIGKILL);
    waitpid(d, NULL, 0);
    ASSERT_TRUE(wait_state(g, false, 2000)); /* the guardian's SIGCONT */
    /* The record stays (the daemon could not remove it); the next start
     * finds its guest running and leaves it so. */
    ASSERT_EQ(access(record, F_OK), 0);
    ASSERT_EQ(dquiesce_thaw_record(record), 0);
    ASSERT_TRUE(access(record, F_OK) != 0);
    reap(g);
}

static void write_record(pid_t pid, unsigned long long start)
{
    FILE *f = fopen(record, "w");
    ASSERT_TRUE(f != NULL);
    if (f) {
        fprintf(f, "%d %llu\n", (int)pid, start);
        fclose(f);
    }
}

/* Two guests stopped at once (two mover threads): the record names both;
 * resuming one leaves the other stopped and recorded; a "daemon" killed -9
 * while it holds both has both resumed by the guardian. */
static void test_two_stopped(void)
{
    dquiesce *q = NULL;
    dquiesce_entry tab[4];
    char text[256];
    pid_t g1 = spawn_guest(), g2 = spawn_guest();
    ASSERT_TRUE(g1 > 0 && g2 > 0);
    ASSERT_EQ(dquiesce_create(record, &q), 0);
    ASSERT_EQ(dquiesce_fn(q, g1, true), 0);
    ASSERT_EQ(dquiesce_fn(q, g2, true), 0);
    ASSERT_TRUE(wait_state(g1, true, 2000) && wait_state(g2, true, 2000));
    FILE *f = fopen(record, "r");
    ASSERT_TRUE(f != NULL);
    size_t n = f ? fread(text, 1, sizeof(text) - 1, f) : 0;
    if (f)
        fclose(f);
    text[n] = '\0';
    ASSERT_EQ(dquiesce_parse_record(text, tab, 4), 2);
    ASSERT_EQ(dquiesce_fn(q, g1, false), 0);
    ASSERT_TRUE(wait_state(g1, false, 2000));
    ASSERT_TRUE(wait_state(g2, true, 0)); /* still stopped */
    ASSERT_EQ(access(record, F_OK), 0);   /* and still recorded */
    dquiesce_destroy(q);                  /* resumes what it holds */
    ASSERT_TRUE(wait_state(g2, false, 2000));
    ASSERT_TRUE(access(record, F_OK) != 0);

    pid_t d = daemon_stopping(g1, g2);
    kill(d, SIGKILL);
    waitpid(d, NULL, 0);
    ASSERT_TRUE(wait_state(g1, false, 2000)); /* the guardian resumes both */
    ASSERT_TRUE(wait_state(g2, false, 2000));
    ASSERT_EQ(dquiesce_thaw_record(record), 0);
    reap(g1);
    reap(g2);
}

/* A record left behind (daemon and guardian both killed) resumes its
 * guest at the next start, unless the PID now names another process. */
static void test_record_thaws_at_start(void)
{
    unsigned long long start = 0;
    pid_t g = spawn_guest();
    ASSERT_TRUE(g > 0);
    state_of(g, &start);
    kill(g, SIGSTOP);
    ASSERT_TRUE(wait_state(g, true, 2000));
    write_record(g, start + 1); /* another process's start time */
    ASSERT_EQ(dquiesce_thaw_record(record), 0);
    ASSERT_TRUE(wait_state(g, true, 0));
    write_record(g, start);
    dquiesce *q = NULL;
    ASSERT_EQ(dquiesce_create(record, &q), 0); /* thaws it */
    ASSERT_TRUE(wait_state(g, false, 2000));
    dquiesce_destroy(q);
    reap(g);
}

/* The record's lines: "PID START", anything else skipped, at most max. */
static void test_record_parse(void)
{
    dquiesce_entry tab[3];
    const char *text = "12 345\n"       /* kept */
                       "0 7\n"          /* PID 0: skipped */
                       "x 1\n"          /* not a number */
                       "13\n"           /* no start time */
                       "14 \n"          /* start time empty */
                       "15 99 junk\n"   /* trailing text */
                       "16 100\n"       /* kept */
                       "17 101\n"       /* kept */
                       "18 102\n";      /* beyond max */
    ASSERT_EQ(dquiesce_parse_record(text, tab, 3), 3u);
    ASSERT_EQ(tab[0].pid, 12);
    ASSERT_EQ(tab[0].start, 345ull);
    ASSERT_EQ(tab[1].pid, 16);
    ASSERT_EQ(tab[2].pid, 17);
    ASSERT_EQ(tab[2].start, 101ull);
    ASSERT_EQ(dquiesce_parse_record("", tab, 3), 0u);
    ASSERT_EQ(dquiesce_parse_record("21 5", tab, 3), 1u); /* no final newline */
    ASSERT_EQ(tab[0].start, 5ull);
}

/* Stopped by someone else: not ours to stop or resume. */
static void test_someone_elses_stop(void)
{
    dquiesce *q = NULL;
    pid_t g = spawn_guest();
    ASSERT_TRUE(g > 0);
    kill(g, SIGSTOP);
    ASSERT_TRUE(wait_state(g, true, 2000));
    ASSERT_EQ(dquiesce_create(record, &q), 0);
    ASSERT_EQ(dquiesce_fn(q, g, true), -EALREADY);
    dquiesce_destroy(q);
    sleep_ms(50);
    ASSERT_TRUE(wait_state(g, true, 0)); /* still stopped */
    reap(g);
}

int main(void)
{
    dlog_init(NP_LOG_ERROR);
    snprintf(record, sizeof(record), "/tmp/np-quiesce-test-%d.stopped", (int)getpid());
    NP_RUN(test_stop_and_resume);
    NP_RUN(test_kill9_resumes);
    NP_RUN(test_two_stopped);
    NP_RUN(test_record_thaws_at_start);
    NP_RUN(test_someone_elses_stop);
    NP_RUN(test_record_parse);
    unlink(record);
    return np_test_summary();
}
