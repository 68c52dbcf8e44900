/*
 * pongd: the baseline for scripts/bench.sh. A minimal single-threaded epoll
 * server that answers every 1028-byte frame it reads with the same frame,
 * its type set to PONG (2, big-endian): the least work a PING/PONG server
 * can do, with no timeline, no SLEEP and no limits.
 *
 *   pongd HOST PORT ADDRFILE   (PORT 0: any free port; HOST:PORT is written
 *                               to ADDRFILE once listening)
 *
 * It runs until SIGINT or SIGTERM.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

enum { FRAME = 1028, EVENTS = 256 };

struct peer {
	int fd;
	int have;               /* bytes of the current frame read so far */
	unsigned char buf[FRAME];
};

static volatile sig_atomic_t stop;
static void on_signal(int sig) { (void)sig; stop = 1; }

static void drop(struct peer *p) {
	close(p->fd);
	free(p);
}

/* serve reads what p's socket holds and answers each whole frame. It
 * returns -1 when the peer is gone. A PONG the socket cannot take at once
 * ends the connection: a client of this benchmark always reads. */
static int serve(struct peer *p) {
	for (;;) {
		ssize_t n = read(p->fd, p->buf + p->have, FRAME - p->have);
		if (n == 0)
			return -1;
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
		p->have += n;
		if (p->have < FRAME)
			continue;
		p->have = 0;
		p->buf[0] = 0, p->buf[1] = 0, p->buf[2] = 0, p->buf[3] = 2;
		if (write(p->fd, p->buf, FRAME) != FRAME)
			return -1;
	}
}

int main(int argc, char **argv) {
	if (argc != 4) {
		fprintf(stderr, "usage: pongd HOST PORT ADDRFILE\n");
		return 2;
	}
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[2]))};
	if (inet_pton(AF_INET, argv[1], &sa.sin_addr) != 1) {
		fprintf(stderr, "pongd: bad IPv4 address %s\n", argv[1]);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	struct sigaction act = {.sa_handler = on_signal};
	sigaction(SIGINT, &act, NULL);
	sigaction(SIGTERM, &act, NULL);

	int ln = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	int one = 1;
	setsockopt(ln, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (ln < 0 || bind(ln, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(ln, 4096) < 0) {
		perror("pongd: listen");
		return 1;
	}
	socklen_t len = sizeof sa;
	getsockname(ln, (struct sockaddr *)&sa, &len);
	FILE *f = fopen(argv[3], "w");
	if (!f) {
		perror("pongd: addr file");
		return 1;
	}
	fprintf(f, "%s:%d\n", argv[1], ntohs(sa.sin_port));
	fclose(f);

	int ep = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
	epoll_ctl(ep, EPOLL_CTL_ADD, ln, &ev);
	struct epoll_event evs[EVENTS];
	while (!stop) {
		int n = epoll_wait(ep, evs, EVENTS, 200);
		for (int i = 0; i < n; i++) {
			struct peer *p = evs[i].data.ptr;
			if (p == NULL) {
				int fd;
				while ((fd = accept4(ln, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
					setsockopt(fd, IPPROTO_TCP, 1 /* TCP_NODELAY */, &one, sizeof one);
					p = calloc(1, sizeof *p);
					p->fd = fd;
					struct epoll_event pe = {.events = EPOLLIN, .data.ptr = p};
					epoll_ctl(ep, EPOLL_CTL_ADD, fd, &pe);
				}
				continue;
			}
			if (serve(p) < 0)
				drop(p); /* close removes it from the epoll set */
		}
	}
	return 0;
}
