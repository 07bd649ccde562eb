/*
 * np-rawctl - send raw bytes to a UNIX stream socket and print the reply,
 * for the VM tests of numaplaced's control socket (busybox's nc has no
 * UNIX sockets).
 *
 *   np-rawctl [-u UID] SOCKET < REQUEST
 *
 * With -u it first becomes UID (group UID, no supplementary groups), to
 * test what the daemon lets an ordinary user do. Prints the reply and
 * "rc=0", or "rc=ERRNO" when it cannot connect or send.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    static char req[1 << 16], rep[1 << 20];
    int opt;
    while ((opt = getopt(argc, argv, "u:")) != -1) {
        if (opt != 'u')
            return 2;
        long uid = strtol(optarg, NULL, 10);
        if (setgroups(0, NULL) || setgid((gid_t)uid) || setuid((uid_t)uid)) {
            perror("np-rawctl: drop privileges");
            return 2;
        }
    }
    if (optind + 1 != argc) {
        fprintf(stderr, "usage: np-rawctl [-u UID] SOCKET < REQUEST\n");
        return 2;
    }
    size_t len = fread(req, 1, sizeof(req), stdin);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", argv[optind]);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        (len && send(fd, req, len, MSG_NOSIGNAL) < 0)) {
        printf("rc=%d\n", errno);
        return 1;
    }
    shutdown(fd, SHUT_WR);
    size_t got = 0;
    ssize_t n;
    while (got < sizeof(rep) - 1 && (n = recv(fd, rep + got, sizeof(rep) - 1 - got, 0)) > 0)
        got += (size_t)n;
    rep[got] = '\0';
    printf("%s%src=0\n", rep, got && rep[got - 1] == '\n' ? "" : "\n");
    close(fd);
    return 0;
}
