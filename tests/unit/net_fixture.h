/* Network helpers shared by the unit tests that need a server that is not there. */
#ifndef BASALT_TESTS_NET_FIXTURE_H
#define BASALT_TESTS_NET_FIXTURE_H

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

/* A port nothing listens on (bound, then closed); -1 when no port could be bound. */
static inline int net_fixture_closed_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int ok = fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && getsockname(fd, (struct sockaddr *)&a, &len) == 0;
    if (fd >= 0) close(fd);
    return ok ? ntohs(a.sin_port) : -1;
}

#endif
