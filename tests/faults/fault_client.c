/*
 * fault_client.c - hostile clients of numaplaced's control socket for the
 * fault suite (tests/faults/faults.sh): `fault_client SOCKET IDLE SLOW_MS
 * SECONDS` keeps IDLE connections open that never send anything and one
 * that sends one byte of a request every SLOW_MS milliseconds without ever
 * finishing the line, for SECONDS; a connection the daemon closes is
 * opened again at once, so the pressure lasts. Prints how many
 * connections it opened in all. Exit 0, or 2 on bad arguments.
 */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 1000

static int connect_to(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -1;
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS) {
        close(fd);
        return -1;
    }
    return fd;
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int main(int argc, char **argv)
{
    int fds[MAX_CONNS + 1];
    unsigned long opened = 0;
    static const char request[] = "{\"cmd\":\"status\"";

    if (argc != 5) {
        fprintf(stderr, "usage: fault_client SOCKET IDLE SLOW_MS SECONDS\n");
        return 2;
    }
    const char *path = argv[1];
    int idle = atoi(argv[2]), slow_ms = atoi(argv[3]), secs = atoi(argv[4]);
    if (idle < 0 || idle > MAX_CONNS || slow_ms <= 0 || secs <= 0) {
        fprintf(stderr, "fault_client: IDLE 0-%d, SLOW_MS and SECONDS positive\n", MAX_CONNS);
        return 2;
    }
    int n = idle + 1; /* the last one is the slow one */
    for (int i = 0; i < n; i++) {
        fds[i] = connect_to(path);
        opened += fds[i] >= 0;
    }
    uint64_t end = now_ms() + (uint64_t)secs * 1000u, next_byte = now_ms();
    size_t sent = 0;
    while (now_ms() < end) {
        struct pollfd p[MAX_CONNS + 1];
        for (int i = 0; i < n; i++)
            p[i] = (struct pollfd){.fd = fds[i], .events = POLLIN};
        poll(p, (nfds_t)n, 50);
        for (int i = 0; i < n; i++) {
            char buf[4096];
            bool gone = fds[i] < 0;
            if (!gone && (p[i].revents & (POLLIN | POLLHUP | POLLERR))) {
                ssize_t r = recv(fds[i], buf, sizeof(buf), MSG_DONTWAIT);
                gone = r == 0 || (r < 0 && errno != EAGAIN);
                gone = gone || r > 0; /* an error reply: the daemon is done with it */
            }
            if (gone) {
                if (fds[i] >= 0)
                    close(fds[i]);
                fds[i] = connect_to(path);
                opened += fds[i] >= 0;
                if (i == n - 1)
                    sent = 0;
            }
        }
        if (now_ms() >= next_byte && fds[n - 1] >= 0) {
            /* never the whole request, never the newline */
            send(fds[n - 1], request + sent % (sizeof(request) - 1), 1,
                 MSG_NOSIGNAL | MSG_DONTWAIT);
            sent++;
            next_byte = now_ms() + (uint64_t)slow_ms;
        }
    }
    printf("%lu connections opened\n", opened);
    return 0;
}
