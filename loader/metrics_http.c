// SPDX-License-Identifier: GPL-2.0-only
/*
 * metrics_http.c - the exposition over HTTP and as a textfile.
 *
 * The server is the smallest that Prometheus needs: one connection at a
 * time, one request per connection, then close.  It is meant to sit in
 * the daemon's poll loop, so nothing in it blocks for long: accept is
 * non-blocking and a client gets a second to send its request.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "log.h"
#include "metrics.h"
#include "peer.h"
#include "source.h"

#define REQ_MAX 4096
#define REQ_TIMEOUT_MS 1000
#define SEND_TIMEOUT_S 2

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

int cf_metrics_http_open_any(const char *addr_port, bool any_addr)
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
	    bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, 16)) {
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

int cf_metrics_http_open(const char *addr_port)
{
	return cf_metrics_http_open_any(addr_port, false);
}

/* Read up to the blank line ending the headers; 0 on time out or EOF. */
static size_t read_request(int fd, char *buf, size_t len)
{
	double end = cf_now_ms() + REQ_TIMEOUT_MS;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	size_t n = 0;
	ssize_t r;
	int left;

	while (n < len - 1 && !strstr(buf, "\r\n\r\n") && !strstr(buf, "\n\n")) {
		left = (int)(end - cf_now_ms());
		if (left <= 0 || poll(&p, 1, left) <= 0)
			return 0;
		r = recv(fd, buf + n, len - 1 - n, MSG_DONTWAIT);
		if (r <= 0 && !(r < 0 && errno == EAGAIN))
			return 0;
		n += r > 0 ? (size_t)r : 0;
		buf[n] = '\0';
	}
	return n;
}

static int send_all(int fd, const char *p, size_t len)
{
	ssize_t r;

	while (len) {
		r = send(fd, p, len, MSG_NOSIGNAL);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? -errno : -EIO;
		p += r;
		len -= (size_t)r;
	}
	return 0;
}

static int respond(int fd, const char *status, const char *type,
		   const char *body, size_t len)
{
	char hdr[256];
	int n, err;

	n = snprintf(hdr, sizeof(hdr),
		     "HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
		     status, type, len);
	err = send_all(fd, hdr, (size_t)n);
	return err ?: send_all(fd, body, len);
}

/* The exposition in memory, so a failure leaves no half-written file. */
static int render_mem(const struct cf_runtime *rt, char **buf, size_t *len)
{
	FILE *f = open_memstream(buf, len);
	int err;

	if (!f)
		return -errno;
	err = cf_metrics_render(f, rt);
	if (fclose(f) && !err)
		err = -EIO;
	return err;
}

static int respond_metrics(int fd, const struct cf_runtime *rt)
{
	static const char fail[] = "cannot read camfence's counters\n";
	char *body = NULL;
	size_t len = 0;
	int err;

	err = render_mem(rt, &body, &len);
	if (err)
		err = respond(fd, "500 Internal Server Error", "text/plain",
			      fail, sizeof(fail) - 1);
	else
		err = respond(fd, "200 OK", CONTENT_TYPE, body, len);
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
 * CAMFENCE_METRICS_ALLOW_UID (the unit's Environment=, or --allow-uid).
 */
static bool peer_allowed(int fd)
{
	const char *env = getenv("CAMFENCE_METRICS_ALLOW_UID");
	long uid = cf_peer_uid(fd);
	char *end;

	if (uid == 0)
		return true;
	if (uid < 0 || !env || !*env)
		return false;
	return strtol(env, &end, 10) == uid && !*end;
}

static int handle(int fd, const struct cf_runtime *rt)
{
	struct timeval tv = { .tv_sec = SEND_TIMEOUT_S };
	char req[REQ_MAX] = "";
	const char *status;

	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (!read_request(fd, req, sizeof(req)))
		return -ETIMEDOUT;
	if (!peer_allowed(fd))
		return respond(fd, "403 Forbidden", "text/plain",
			       "root only\n", 10);
	status = route(req);
	if (!status)
		return respond_metrics(fd, rt);
	return respond(fd, status, "text/plain", "see /metrics\n", 13);
}

void cf_metrics_http_serve(int lfd, const struct cf_runtime *rt)
{
	int fd, err;

	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno != EAGAIN && errno != EINTR &&
		    errno != ECONNABORTED)
			pr_warn("metrics: accept: %s", strerror(errno));
		return;
	}
	err = handle(fd, rt);
	if (err)
		pr_debug("metrics: a request failed: %s", strerror(-err));
	close(fd);
}

static int write_tmp(const char *tmp, const char *buf, size_t len)
{
	int fd, err = 0;

	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  0644);
	if (fd < 0)
		return -errno;
	/* the umask must not hide the file from node_exporter */
	if (fchmod(fd, 0644))
		err = -errno;
	err = err ?: cf_write_all(fd, buf, len);
	if (!err && fsync(fd))
		err = -errno;
	if (close(fd) && !err)
		err = -errno;
	return err;
}

int cf_metrics_textfile(const char *path, const struct cf_runtime *rt)
{
	char tmp[PATH_MAX], *buf = NULL;
	size_t len = 0;
	int err;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
		pr_err("textfile path '%s' is too long", path);
		return -EINVAL;
	}
	err = render_mem(rt, &buf, &len);
	if (err)
		goto out;
	err = write_tmp(tmp, buf, len);
	if (!err && rename(tmp, path))
		err = -errno;
	if (err) {
		pr_err("cannot write the metrics to %s: %s", path,
		       strerror(-err));
		unlink(tmp);
		/* a missing directory is a bad path, not "not loaded" */
		if (err == -ENOENT || err == -ENOTDIR)
			err = -EINVAL;
	}
out:
	free(buf);
	return err;
}
