// SPDX-License-Identifier: GPL-2.0-only
/*
 * metrics_http.c - the exposition over HTTP.
 *
 * The server is the smallest that Prometheus needs: one request per
 * connection, then close.  It lives in the daemon's poll loop, which
 * also carries link changes, reloads and signals, so nothing in it
 * waits: every socket is non-blocking, each connection keeps its own
 * buffers and deadline, and the loop's timeout enforces the deadlines.
 *
 * Any local user can connect, so the peer's uid is asked of the kernel
 * right after accept: others get their 403 without a byte of theirs
 * read, and hold nothing.  Root and the allowed scraper hold a few
 * connections each, so neither can crowd out the other.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "metrics.h"
#include "peer.h"
#include "source.h"

#define REQ_MAX 4096
#define REQ_TIMEOUT_MS 1000 /* from accept to the request's blank line */
#define SEND_TIMEOUT_MS 2000 /* for the client to take the answer */
#define ACCEPT_BATCH 32 /* then the loop's other sources get a turn */
#define BACKLOG 128

#define CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* "127.0.0.1:9733" or "[::1]:9733" into host and port strings. */
static int split_addr(const char *s, char *host, size_t hlen, char **port)
{
	const char *colon, *h = s;
	size_t n;

	if (*s == '[') {
		colon = strstr(s, "]:");
		h = s + 1;
		n = colon ? (size_t)(colon - h) : 0;
		*port = colon ? (char *)colon + 2 : NULL;
	} else {
		colon = strrchr(s, ':');
		n = colon ? (size_t)(colon - s) : 0;
		*port = colon ? (char *)colon + 1 : NULL;
		if (colon && memchr(s, ':', n)) /* a bare IPv6 address */
			colon = NULL;
	}
	if (!colon || !n || n >= hlen || !**port)
		return -EINVAL;
	memcpy(host, h, n);
	host[n] = '\0';
	return 0;
}

static bool is_loopback(const struct sockaddr *sa)
{
	const struct sockaddr_in6 *s6 = (const void *)sa;
	const struct sockaddr_in *s4 = (const void *)sa;

	if (sa->sa_family == AF_INET)
		return (ntohl(s4->sin_addr.s_addr) >> 24) == 127;
	if (IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr))
		return true;
	return IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr) &&
	       s6->sin6_addr.s6_addr[12] == 127;
}

static int resolve(const char *s, bool any_addr, struct addrinfo **ai)
{
	const struct addrinfo hints = {
		.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE,
		.ai_socktype = SOCK_STREAM,
	};
	char host[64], *port;
	long p;

	if (split_addr(s, host, sizeof(host), &port) ||
	    (p = strtol(port, NULL, 10)) < 1 || p > 65535 ||
	    getaddrinfo(host, port, &hints, ai)) {
		pr_err("metrics address '%s' is not ADDR:PORT with a numeric IPv4 address or [IPv6] address and a port from 1 to 65535",
		       s);
		return -EINVAL;
	}
	if (!any_addr && !is_loopback((*ai)->ai_addr)) {
		pr_err("metrics address '%s' is not a loopback address; the endpoint binds loopback only unless --listen-any is given",
		       s);
		freeaddrinfo(*ai);
		return -EINVAL;
	}
	return 0;
}

/* The listening socket, or a negative errno (error printed). */
static int listen_on(const char *addr_port, bool any_addr)
{
	const char *s = addr_port ? addr_port : CF_METRICS_ADDR_DEFAULT;
	struct addrinfo *ai;
	int fd, one = 1, err;

	err = resolve(s, any_addr, &ai);
	if (err)
		return err;
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
	if (fd < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, BACKLOG)) {
		err = -errno;
		pr_err("cannot listen for metrics on %s: %s", s,
		       strerror(-err));
		if (fd >= 0)
			close(fd);
		fd = err;
	}
	freeaddrinfo(ai);
	return fd;
}

struct conn {
	int fd; /* -1: a free slot */
	long uid;
	uint64_t seq; /* accept order: the lowest is the oldest */
	double deadline; /* cf_now_ms */
	size_t n; /* bytes of the request read */
	char *out; /* the answer once the request is in, else NULL */
	size_t out_len, out_off;
	char req[REQ_MAX];
};

struct cf_metrics_srv {
	int lfd;
	uint64_t seq;
	int answered; /* in this cf_metrics_srv_run */
	bool diag_warned;
	struct conn c[CF_METRICS_CONN_MAX];
};

int cf_metrics_srv_open(struct cf_metrics_srv **srv, const char *addr_port,
			bool any_addr)
{
	struct cf_metrics_srv *s = calloc(1, sizeof(*s));
	int fd;

	if (!s)
		return -ENOMEM;
	fd = listen_on(addr_port, any_addr);
	if (fd < 0) {
		free(s);
		return fd;
	}
	s->lfd = fd;
	for (int i = 0; i < CF_METRICS_CONN_MAX; i++)
		s->c[i].fd = -1;
	*srv = s;
	return 0;
}

static void conn_close(struct conn *c, const char *why)
{
	if (why)
		pr_debug("metrics: closing a connection of uid %ld: %s", c->uid,
			 why);
	close(c->fd);
	free(c->out);
	c->fd = -1;
	c->out = NULL;
}

void cf_metrics_srv_close(struct cf_metrics_srv *s)
{
	if (!s)
		return;
	for (int i = 0; i < CF_METRICS_CONN_MAX; i++)
		if (s->c[i].fd >= 0)
			conn_close(&s->c[i], NULL);
	close(s->lfd);
	free(s);
}

void cf_metrics_srv_pollfds(const struct cf_metrics_srv *s, struct pollfd *p)
{
	p[0] = (struct pollfd){ .fd = s->lfd, .events = POLLIN };
	for (int i = 0; i < CF_METRICS_CONN_MAX; i++)
		p[i + 1] = (struct pollfd){
			.fd = s->c[i].fd,
			.events = s->c[i].out ? POLLOUT : POLLIN,
		};
}

double cf_metrics_srv_deadline(const struct cf_metrics_srv *s)
{
	double first = 0;

	for (int i = 0; i < CF_METRICS_CONN_MAX; i++)
		if (s->c[i].fd >= 0 && (!first || s->c[i].deadline < first))
			first = s->c[i].deadline;
	return first;
}

static int head_fmt(char *buf, size_t len, const char *status, const char *type,
		    size_t body_len)
{
	return snprintf(
		buf, len,
		"HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
		status, type, body_len);
}

/* The whole answer into c->out, sent as the client takes it. */
static int set_answer(struct conn *c, const char *status, const char *type,
		      const char *body, size_t len)
{
	char head[256];
	int n = head_fmt(head, sizeof(head), status, type, len);

	c->out = malloc((size_t)n + len);
	if (!c->out)
		return -ENOMEM;
	memcpy(c->out, head, (size_t)n);
	memcpy(c->out + n, body, len);
	c->out_len = (size_t)n + len;
	c->out_off = 0;
	return 0;
}

static int answer_metrics(struct conn *c, const struct cf_runtime *rt)
{
	static const char fail[] = "cannot read camfence's counters\n";
	char *body = NULL;
	size_t len = 0;
	int err;

	err = cf_metrics_render_mem(rt, &body, &len);
	if (err)
		err = set_answer(c, "500 Internal Server Error", "text/plain",
				 fail, sizeof(fail) - 1);
	else
		err = set_answer(c, "200 OK", CONTENT_TYPE, body, len);
	free(body);
	return err;
}

/* "GET /metrics HTTP/1.1": NULL for the metrics, else the status line. */
static const char *route(char *req)
{
	char *method = strtok(req, " "), *path = strtok(NULL, " ?\r\n");

	if (!method || !path)
		return "400 Bad Request";
	if (strcmp(path, "/metrics"))
		return "404 Not Found";
	if (strcmp(method, "GET"))
		return "405 Method Not Allowed";
	return NULL;
}

/*
 * Counters tell an attacker on the gateway which vendors' clouds are cut
 * off, so the endpoint answers root and one scraper uid at most:
 * CAMFENCE_METRICS_ALLOW_UID (the daemon publishes its setting there,
 * `camfence metrics` its --allow-uid).
 */
static bool uid_allowed(long uid)
{
	const char *env = getenv("CAMFENCE_METRICS_ALLOW_UID");
	char *end;

	if (uid == 0)
		return true;
	if (uid < 0 || !env || !*env)
		return false;
	return strtol(env, &end, 10) == uid && !*end;
}

static int answer(struct conn *c, const struct cf_runtime *rt)
{
	const char *status;

	/* the allowed uid may have changed (SIGHUP) since accept */
	if (!uid_allowed(c->uid))
		return set_answer(c, "403 Forbidden", "text/plain",
				  "root only\n", 10);
	status = route(c->req);
	if (!status)
		return answer_metrics(c, rt);
	return set_answer(c, status, "text/plain", "see /metrics\n", 13);
}

static void conn_write(struct cf_metrics_srv *s, struct conn *c)
{
	ssize_t r;

	while (c->out_off < c->out_len) {
		r = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
			 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN)
			return; /* POLLOUT brings us back */
		if (r <= 0) {
			conn_close(c, "write failed");
			return;
		}
		c->out_off += (size_t)r;
	}
	s->answered++;
	conn_close(c, NULL);
}

static bool request_done(const struct conn *c)
{
	return c->n == REQ_MAX - 1 || strstr(c->req, "\r\n\r\n") ||
	       strstr(c->req, "\n\n");
}

static void conn_read(struct cf_metrics_srv *s, struct conn *c,
		      const struct cf_runtime *rt)
{
	ssize_t r;

	do {
		r = recv(c->fd, c->req + c->n, REQ_MAX - 1 - c->n,
			 MSG_DONTWAIT);
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (r <= 0) {
			conn_close(c, r ? "read failed" : "closed early");
			return;
		}
		c->n += (size_t)r;
		c->req[c->n] = '\0';
	} while (!request_done(c));
	if (answer(c, rt)) {
		conn_close(c, strerror(ENOMEM));
		return;
	}
	c->deadline = cf_now_ms() + SEND_TIMEOUT_MS;
	conn_write(s, c);
}

/*
 * A slot for a new connection of uid.  One that holds its share loses its
 * oldest connection: a stuck scrape of its own, never another uid's.  All
 * taken (only after the allowed uid changed) drops the oldest of all.
 */
static struct conn *slot_for(struct cf_metrics_srv *s, long uid)
{
	struct conn *free_c = NULL, *oldest = NULL, *own = NULL, *c;
	int mine = 0;

	for (int i = 0; i < CF_METRICS_CONN_MAX; i++) {
		c = &s->c[i];
		if (c->fd < 0) {
			free_c = free_c ?: c;
			continue;
		}
		if (!oldest || c->seq < oldest->seq)
			oldest = c;
		if (c->uid != uid)
			continue;
		mine++;
		if (!own || c->seq < own->seq)
			own = c;
	}
	c = mine >= CF_METRICS_CONN_PER_UID ? own : free_c ?: oldest;
	if (c->fd >= 0)
		conn_close(c, "dropped for a newer connection");
	return c;
}

/* The 403, written at once (it fits an empty socket buffer), and close. */
static void refuse(struct cf_metrics_srv *s, int fd, long uid)
{
	static const char body[] = "root only\n";
	char buf[300];
	int n;

	if (uid < 0 && uid != -ENOENT && !s->diag_warned) {
		pr_warn("metrics: cannot tell who connected (%s): answering nobody",
			strerror((int)-uid));
		s->diag_warned = true;
	}
	pr_debug("metrics: refused uid %ld", uid);
	n = head_fmt(buf, sizeof(buf), "403 Forbidden", "text/plain",
		     sizeof(body) - 1);
	n += snprintf(buf + n, sizeof(buf) - (size_t)n, "%s", body);
	if (send(fd, buf, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) == n)
		s->answered++;
	close(fd);
}

static void admit(struct cf_metrics_srv *s, int fd, const struct cf_runtime *rt)
{
	long uid = cf_peer_uid(fd);
	struct conn *c;

	if (!uid_allowed(uid)) {
		refuse(s, fd, uid);
		return;
	}
	c = slot_for(s, uid);
	c->fd = fd;
	c->uid = uid;
	c->seq = ++s->seq;
	c->deadline = cf_now_ms() + REQ_TIMEOUT_MS;
	c->n = 0;
	c->req[0] = '\0';
	/* the request is often in already */
	conn_read(s, c, rt);
}

static void accept_some(struct cf_metrics_srv *s, const struct cf_runtime *rt)
{
	int fd;

	for (int i = 0; i < ACCEPT_BATCH; i++) {
		fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0) {
			admit(s, fd, rt);
			continue;
		}
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		if (errno != EAGAIN)
			pr_warn("metrics: accept: %s", strerror(errno));
		return;
	}
}

static void expire(struct cf_metrics_srv *s)
{
	double now = cf_now_ms();
	struct conn *c;

	for (int i = 0; i < CF_METRICS_CONN_MAX; i++) {
		c = &s->c[i];
		if (c->fd >= 0 && c->deadline <= now)
			conn_close(c, c->out ? "answer not taken in time" :
					       "no request in time");
	}
}

int cf_metrics_srv_run(struct cf_metrics_srv *s, const struct pollfd *p,
		       const struct cf_runtime *rt)
{
	struct conn *c;

	s->answered = 0;
	for (int i = 0; i < CF_METRICS_CONN_MAX; i++) {
		c = &s->c[i];
		if (c->fd < 0 || p[i + 1].fd != c->fd || !p[i + 1].revents)
			continue;
		if (c->out)
			conn_write(s, c);
		else
			conn_read(s, c, rt);
	}
	if (p[0].revents & POLLIN)
		accept_some(s, rt);
	expire(s);
	return s->answered;
}
