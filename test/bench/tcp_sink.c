/* tcp_sink.c: benchmark helper. Listens on 127.0.0.1 at PORT..PORT+N-1 (or
 * on N ephemeral ports when PORT is 0, so parallel runs never collide),
 * prints "ready" and the ports, then accepts and closes every connection as
 * fast as it can, so tcp checks have a real peer without a process per
 * connection. Runs until killed. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
        if (argc != 3) {
                fprintf(stderr, "usage: tcp_sink FIRST_PORT COUNT\n");
                return 2;
        }
        int first = atoi(argv[1]), count = atoi(argv[2]);
        int ep = epoll_create1(EPOLL_CLOEXEC);
        int *fds = calloc((size_t)count, sizeof(int));
        if (!fds)
                return 1;
        for (int i = 0; i < count; i++) {
                int fd = fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
                int one = 1;
                setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
                struct sockaddr_in sa = {.sin_family = AF_INET,
                                         .sin_port = htons((uint16_t)(first ? first + i : 0)),
                                         .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
                if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 4096) < 0) {
                        perror("tcp_sink: bind/listen");
                        return 1;
                }
                struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
                epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
        }
        printf("ready");
        for (int i = 0; i < count; i++) {
                struct sockaddr_in sa;
                socklen_t len = sizeof(sa);
                getsockname(fds[i], (struct sockaddr *)&sa, &len);
                printf(" %d", ntohs(sa.sin_port));
        }
        printf("\n");
        fflush(stdout);
        for (;;) {
                struct epoll_event evs[64];
                int n = epoll_wait(ep, evs, 64, -1);
                for (int i = 0; i < n; i++) {
                        int c;
                        while ((c = accept4(evs[i].data.fd, NULL, NULL, SOCK_CLOEXEC)) >= 0)
                                close(c);
                }
        }
}
