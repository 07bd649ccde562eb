/*
 * daemon/quiesce.c - stopping and resuming a guest for the mover's
 * quiesced steps, with a guardian process and a record (quiesce.h).
 *
 * The guardian is forked before any guest is stopped and lives as long as
 * numaplaced. It reads lines from a socket: "S PID START" (PID, whose
 * start time in /proc/PID/stat is START, is about to be stopped) and
 * "C PID" (resumed). When the socket reaches end of file - numaplaced
 * closed it, exited or was killed, however - it sends SIGCONT to each PID
 * still listed whose start time still matches (not a reused PID) and
 * exits. Between fork and exit it only makes async-signal-safe calls (the
 * daemon has threads). numaplaced writes "S" before the SIGSTOP, on a
 * stream socket, so the guardian has the line before the guest can be
 * stopped; a guardian that is gone makes the stop fail (-EPIPE) and the
 * step moves beside the running guest instead.
 */
#include "quiesce.h"

#include "daemon.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Pause between two looks at the guest's threads while it stops. */
#define DQUIESCE_POLL_NS 200000ull

struct dquiesce {
    pthread_mutex_t mu; /* several mover threads stop and resume guests */
    int fd;             /* our end of the guardian's socket */
    pid_t guardian;
    char record[300]; /* "" = no record */
    /* The guests this has stopped (the record lists them all). */
    dquiesce_entry stopped[DQUIESCE_MAX_STOPPED];
    size_t nr_stopped;
};

/* Appends s, then the decimal n (n > 0), to the string at p: its end.
 * Async-signal-safe (the guardian may not call snprintf). */
static char *put(char *p, const char *s, long n)
{
    char digits[24];
    int k = 0;
    while (*s)
        *p++ = *s++;
    for (; n > 0 && k < (int)sizeof(digits); n /= 10)
        digits[k++] = (char)('0' + n % 10);
    while (k > 0)
        *p++ = digits[--k];
    *p = '\0';
    return p;
}

/* State letter and start time (clock ticks since boot) of /proc/PID/stat
 * or /proc/PID/task/TID/stat (tid > 0): 0 or -errno. Async-signal-safe. */
static int proc_stat(pid_t pid, pid_t tid, char *state, unsigned long long *start)
{
    char path[64], buf[1024];
    if (pid <= 0)
        return -ESRCH;
    char *e = put(path, "/proc/", pid);
    if (tid > 0)
        e = put(e, "/task/", tid);
    put(e, "/stat", 0);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return -EIO;
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    if (!p || p[1] != ' ' || !p[2])
        return -EIO;
    *state = p[2];
    /* After ")": state is field 3, starttime field 22. */
    p += 2;
    for (int field = 3; field < 22; field++) {
        p = strchr(p, ' ');
        if (!p)
            return -EIO;
        p++;
    }
    unsigned long long v = 0;
    for (; *p >= '0' && *p <= '9'; p++)
        v = v * 10 + (unsigned long long)(*p - '0');
    *start = v;
    return 0;
}

static bool is_stopped_state(char s)
{
    return s == 'T' || s == 't';
}

/* Decimal parse of a line field; advances *pp. Async-signal-safe. */
static unsigned long long parse_num(const char **pp)
{
    const char *p = *pp;
    unsigned long long v = 0;
    while (*p == ' ')
        p++;
    for (; *p >= '0' && *p <= '9'; p++)
        v = v * 10 + (unsigned long long)(*p - '0');
    *pp = p;
    return v;
}

/* Resumes pid if it is the process that started at start. */
static void resume_if_same(pid_t pid, unsigned long long start)
{
    char st;
    unsigned long long now_start;
    if (pid > 0 && proc_stat(pid, 0, &st, &now_start) == 0 && now_start == start)
        kill(pid, SIGCONT);
}

static __attribute__((noreturn)) void guardian_main(int fd)
{
    struct {
        pid_t pid;
        unsigned long long start;
    } tab[DQUIESCE_MAX_STOPPED];
    size_t n = 0, len = 0;
    char buf[512];
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_IGN;
    /* Only the end of the socket ends the guardian (a SIGTERM to the whole
     * group, as a service manager sends, must not end it first). */
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGPIPE, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
    sigaction(SIGUSR2, &sa, NULL);
    prctl(PR_SET_NAME, "numaplaced-grd", 0, 0, 0);
    for (;;) {
        ssize_t r = read(fd, buf + len, sizeof(buf) - 1 - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        len += (size_t)r;
        buf[len] = '\0';
        char *line = buf, *nl;
        while ((nl = strchr(line, '\n'))) {
            *nl = '\0';
            const char *p = line + 1;
            pid_t pid = (pid_t)parse_num(&p);
            if (line[0] == 'S' && n < DQUIESCE_MAX_STOPPED) {
                tab[n].pid = pid;
                tab[n].start = parse_num(&p);
                n++;
            } else if (line[0] == 'C') {
                for (size_t i = 0; i < n; i++)
                    if (tab[i].pid == pid) {
                        tab[i] = tab[--n];
                        break;
                    }
            }
            line = nl + 1;
        }
        len -= (size_t)(line - buf);
        memmove(buf, line, len);
        if (len == sizeof(buf) - 1)
            len = 0; /* a line longer than any we write: drop it */
    }
    for (size_t i = 0; i < n; i++)
        resume_if_same(tab[i].pid, tab[i].start);
    _exit(0);
}

size_t dquiesce_parse_record(const char *text, dquiesce_entry *tab, size_t max)
{
    size_t n = 0;
    for (const char *p = text; *p && n < max;) {
        const char *q = p;
        pid_t pid = (pid_t)parse_num(&q);
        bool pid_ok = q > p && q[-1] >= '0' && q[-1] <= '9' && *q == ' ';
        const char *r = q;
        unsigned long long start = parse_num(&r);
        bool start_ok = r > q && r[-1] >= '0' && r[-1] <= '9' && (*r == '\n' || *r == '\0');
        if (pid_ok && start_ok && pid > 0) {
            tab[n].pid = pid;
            tab[n].start = start;
            n++;
        }
        const char *nl = strchr(p, '\n');
        if (!nl)
            break;
        p = nl + 1;
    }
    return n;
}

int dquiesce_thaw_record(const char *record_path)
{
    char buf[512];
    dquiesce_entry tab[DQUIESCE_MAX_STOPPED];
    int resumed = 0;
    if (!record_path || !record_path[0])
        return 0;
    int fd = open(record_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    buf[n > 0 ? n : 0] = '\0';
    size_t nr = dquiesce_parse_record(buf, tab, DQUIESCE_MAX_STOPPED);
    for (size_t i = 0; i < nr; i++) {
        char st;
        unsigned long long now_start;
        if (proc_stat(tab[i].pid, 0, &st, &now_start) == 0 && now_start == tab[i].start &&
            is_stopped_state(st)) {
            kill(tab[i].pid, SIGCONT);
            dlog(NP_LOG_WARNING, "resumed pid %d: a previous numaplaced stopped it to move its "
                 "memory and did not resume it (record %s)", (int)tab[i].pid, record_path);
            resumed++;
        }
    }
    if (unlink(record_path) < 0 && errno != ENOENT)
        dlog(NP_LOG_WARNING, "cannot remove %s: %s", record_path, np_strerror(-errno));
    return resumed;
}

int dquiesce_create(const char *record_path, dquiesce **out)
{
    int sv[2];
    dquiesce *q = calloc(1, sizeof(*q));
    if (!q)
        return -ENOMEM;
    q->fd = -1;
    if (record_path && record_path[0] &&
        snprintf(q->record, sizeof(q->record), "%s", record_path) >= (int)sizeof(q->record)) {
        free(q);
        return -ENAMETOOLONG;
    }
    dquiesce_thaw_record(q->record);
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
        int rc = -errno;
        free(q);
        return rc;
    }
    pid_t pid = fork();
    if (pid < 0) {
        int rc = -errno;
        close(sv[0]);
        close(sv[1]);
        free(q);
        return rc;
    }
    if (pid == 0) {
        /* Keep only the socket: the control socket, the state file and the
         * rest belong to numaplaced (a listening socket held here would
         * outlive it). */
        int fd = sv[1];
        if (fd != 3) {
            if (dup2(fd, 3) < 0)
                _exit(1);
            fd = 3;
        }
        close_range(4, ~0u, 0);
        guardian_main(fd);
    }
    close(sv[1]);
    pthread_mutex_init(&q->mu, NULL);
    q->fd = sv[0];
    q->guardian = pid;
    dlog(NP_LOG_DEBUG, "quiesce guardian pid %d started", (int)pid);
    *out = q;
    return 0;
}

static int send_line(dquiesce *q, const char *line)
{
    size_t len = strlen(line);
    ssize_t r = send(q->fd, line, len, MSG_NOSIGNAL);
    return r == (ssize_t)len ? 0 : r < 0 ? -errno : -EIO;
}

/* Rewrites the record with every guest stopped now (removes it when none
 * is). Called with q->mu held. */
static void write_record(dquiesce *q)
{
    char text[DQUIESCE_MAX_STOPPED * 48];
    size_t len = 0;
    if (!q->record[0])
        return;
    if (q->nr_stopped == 0) {
        unlink(q->record);
        return;
    }
    for (size_t i = 0; i < q->nr_stopped; i++)
        len += (size_t)snprintf(text + len, sizeof(text) - len, "%d %llu\n",
                                (int)q->stopped[i].pid, q->stopped[i].start);
    int fd = open(q->record, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return;
    if (write(fd, text, len) != (ssize_t)len)
        dlog(NP_LOG_WARNING, "cannot write %s: %s", q->record, np_strerror(-errno));
    close(fd);
}

static long find_stopped(const dquiesce *q, pid_t pid)
{
    for (size_t i = 0; i < q->nr_stopped; i++)
        if (q->stopped[i].pid == pid)
            return (long)i;
    return -1;
}

/* Waits up to DQUIESCE_STOP_WAIT_NS until every thread of pid is stopped:
 * true when they are (or the process is gone). */
static bool wait_stopped(pid_t pid)
{
    char dir[64];
    struct timespec pause = {.tv_sec = 0, .tv_nsec = (long)DQUIESCE_POLL_NS};
    snprintf(dir, sizeof(dir), "/proc/%d/task", (int)pid);
    for (uint64_t waited = 0; waited < DQUIESCE_STOP_WAIT_NS; waited += DQUIESCE_POLL_NS) {
        bool all = true;
        DIR *d = opendir(dir);
        if (!d)
            return true; /* gone: the move calls will say so */
        struct dirent *e;
        while (all && (e = readdir(d))) {
            char st;
            unsigned long long start;
            pid_t tid = (pid_t)atoi(e->d_name);
            if (tid > 0 && proc_stat(pid, tid, &st, &start) == 0 && !is_stopped_state(st))
                all = false;
        }
        closedir(d);
        if (all)
            return true;
        nanosleep(&pause, NULL);
    }
    return false;
}

/* Resumes pid, which this stopped: SIGCONT, then the guardian and the
 * record forget it. Called with q->mu held. */
static void resume_locked(dquiesce *q, size_t i)
{
    char line[64];
    pid_t pid = q->stopped[i].pid;
    kill(pid, SIGCONT);
    q->stopped[i] = q->stopped[--q->nr_stopped];
    snprintf(line, sizeof(line), "C %d\n", (int)pid);
    send_line(q, line); /* a guardian gone meanwhile has nothing to resume */
    write_record(q);
}

int dquiesce_fn(void *opaque, pid_t pid, bool stop)
{
    dquiesce *q = opaque;
    char line[64], st;
    unsigned long long start;
    int rc = 0;

    if (!q || pid <= 0)
        return -EINVAL;
    pthread_mutex_lock(&q->mu);
    long at = find_stopped(q, pid);
    if (!stop) {
        if (at < 0)
            rc = -ENOENT;
        else
            resume_locked(q, (size_t)at);
        pthread_mutex_unlock(&q->mu);
        return rc;
    }
    if (at >= 0 || q->nr_stopped == DQUIESCE_MAX_STOPPED)
        rc = -EBUSY;
    else
        rc = proc_stat(pid, 0, &st, &start);
    if (!rc && is_stopped_state(st))
        rc = -EALREADY; /* someone else's stop: not ours to end */
    if (rc) {
        pthread_mutex_unlock(&q->mu);
        return rc;
    }
    /* Recorded and told to the guardian before the signal. */
    q->stopped[q->nr_stopped++] = (dquiesce_entry){.pid = pid, .start = start};
    write_record(q);
    snprintf(line, sizeof(line), "S %d %llu\n", (int)pid, start);
    rc = send_line(q, line);
    if (rc) {
        dlog(NP_LOG_WARNING, "quiesce guardian gone (%s): moving pid %d's memory without "
             "stopping it", np_strerror(rc), (int)pid);
        q->nr_stopped--;
        write_record(q);
        pthread_mutex_unlock(&q->mu);
        return rc;
    }
    if (kill(pid, SIGSTOP) < 0) {
        rc = -errno;
        resume_locked(q, q->nr_stopped - 1);
        pthread_mutex_unlock(&q->mu);
        return rc;
    }
    pthread_mutex_unlock(&q->mu);
    /* Outside the lock: other movers stop and resume their guests while
     * this one's threads take the signal. */
    if (!wait_stopped(pid)) {
        dlog(NP_LOG_DEBUG, "pid %d did not stop within %llu ms: resumed, its step waits",
             (int)pid, (unsigned long long)(DQUIESCE_STOP_WAIT_NS / 1000000));
        dquiesce_fn(q, pid, false);
        return -EAGAIN;
    }
    return 0;
}

void dquiesce_destroy(dquiesce *q)
{
    if (!q)
        return;
    pthread_mutex_lock(&q->mu);
    while (q->nr_stopped > 0)
        resume_locked(q, q->nr_stopped - 1);
    pthread_mutex_unlock(&q->mu);
    if (q->fd >= 0)
        close(q->fd); /* the guardian sees the end, resumes nothing, exits */
    if (q->guardian > 0)
        waitpid(q->guardian, NULL, 0);
    pthread_mutex_destroy(&q->mu);
    free(q);
}
