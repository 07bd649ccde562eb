/*
 * np-ctltime - time numaplaced's `status` request on its control socket,
 * for the VM tests (how long the daemon takes to answer, without the
 * start-up of a `numaplace` process, which alone costs tens of ms under
 * TCG).
 *
 *   np-ctltime SOCKET COUNT INTERVAL_MS
 *
 * COUNT times, INTERVAL_MS apart: connects, sends {"cmd":"status"}, reads
 * the reply to its end, and prints
 *   sample=I ms=T bytes=N reason=REASON-OF-THE-FIRST-GUEST-WITH-ONE
 * (ms: connect to the reply's last byte, CLOCK_MONOTONIC; bytes=0 when
 * there was no reply). Then "max_ms=T failed=N". Exit 0 when every
 * request got a reply.
 *
 * Beside each request, the same measure of a trivial process, to tell a
 * slow daemon from a stalled guest: echo_ms and echo_after_ms, one byte
 * sent to a forked child on a socketpair and read back (two wake-ups of
 * ordinary processes, nothing of numaplaced) just before and just after
 * the request, and late_ms, how much later than asked the sleep before
 * the sample woke. The last line then also has echo_max_ms (both echoes),
 * late_max_ms and daemon_only, the samples of 100 ms or more whose echoes
 * both took under 10 ms (the guest ran ordinary processes at once, the
 * daemon was slow).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* One request: the reply in rep (NUL-terminated), its length returned
 * (0: none). */
static size_t ask(const char *path, char *rep, size_t cap)
{
    static const char req[] = "{\"cmd\":\"status\"}\n";
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    size_t len = 0;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    rep[0] = '\0';
    if (fd < 0)
        return 0;
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
        write(fd, req, sizeof(req) - 1) == (ssize_t)(sizeof(req) - 1)) {
        for (;;) {
            ssize_t n = read(fd, rep + len, cap - 1 - len);
            if (n <= 0)
                break;
            len += (size_t)n;
            if (len == cap - 1 || rep[len - 1] == '\n')
                break;
        }
    }
    rep[len] = '\0';
    close(fd);
    return len;
}

/* The echo child: returns each byte it reads until EOF. */
static void echo_child(int fd)
{
    char c;
    while (read(fd, &c, 1) == 1)
        if (write(fd, &c, 1) != 1)
            break;
    _exit(0);
}

/* One echo round trip in ms, or -1. */
static double echo_ms(int fd)
{
    char c = 'e';
    double t0 = now_ms();
    if (fd < 0 || write(fd, &c, 1) != 1 || read(fd, &c, 1) != 1)
        return -1;
    return now_ms() - t0;
}

int main(int argc, char **argv)
{
    static char rep[1 << 20];
    if (argc != 4) {
        fprintf(stderr, "usage: np-ctltime SOCKET COUNT INTERVAL_MS\n");
        return 2;
    }
    int count = atoi(argv[2]), interval_ms = atoi(argv[3]), failed = 0, daemon_only = 0;
    double max_ms = 0, echo_max = 0, late_max = 0, late = 0;
    int sv[2] = {-1, -1};
    pid_t child = -1;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0) {
        child = fork();
        if (child == 0) {
            close(sv[0]);
            echo_child(sv[1]);
        }
        close(sv[1]);
        if (child < 0) {
            close(sv[0]);
            sv[0] = -1;
        }
    }
    for (int i = 0; i < count; i++) {
        double echo = echo_ms(sv[0]);
        if (echo > echo_max)
            echo_max = echo;
        if (late > late_max)
            late_max = late;
        double t0 = now_ms();
        size_t n = ask(argv[1], rep, sizeof(rep));
        double ms = now_ms() - t0;
        double echo2 = echo_ms(sv[0]);
        if (echo2 > echo_max)
            echo_max = echo2;
        if (ms >= 100 && echo >= 0 && echo < 10 && echo2 >= 0 && echo2 < 10)
            daemon_only++;
        char reason[160] = "";
        const char *r = strstr(rep, "\"reason\":\"");
        if (r) {
            r += strlen("\"reason\":\"");
            size_t k = 0;
            while (r[k] && r[k] != '"' && k + 1 < sizeof(reason)) {
                reason[k] = r[k];
                k++;
            }
            reason[k] = '\0';
        }
        if (!n || !strstr(rep, "\"ok\":true"))
            failed++;
        if (ms > max_ms)
            max_ms = ms;
        printf("sample=%d ms=%.1f echo_ms=%.1f echo_after_ms=%.1f late_ms=%.1f bytes=%zu "
               "reason=%s\n",
               i, ms, echo, echo2, late, n, reason);
        fflush(stdout);
        if (i + 1 < count) {
            double s0 = now_ms();
            usleep((useconds_t)interval_ms * 1000u);
            late = now_ms() - s0 - interval_ms;
        }
    }
    if (sv[0] >= 0)
        close(sv[0]); /* the child reads EOF and ends */
    if (child > 0)
        waitpid(child, NULL, 0);
    printf("max_ms=%.1f failed=%d echo_max_ms=%.1f late_max_ms=%.1f daemon_only=%d\n", max_ms,
           failed, echo_max, late_max, daemon_only);
    return failed ? 1 : 0;
}
