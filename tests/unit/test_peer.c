// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_peer.c - the owner of a loopback TCP client (loader/peer.c), on
 * real sockets: IPv4, IPv6, IPv4 clients of a dual-stack listener (seen
 * as ::ffff:127.0.0.1), and clients that closed, which own nothing.
 *
 * peer.c depends on nothing in loader/ but its header, so it is compiled
 * into this test.  As root the clients are made as uid 65534, so that a
 * lookup that fell back to some root socket cannot pass for a right one.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../loader/peer.c"

#define OTHER_UID 65534

struct conn {
	int lfd, cli, srv;
	long want_uid;
};

/* A client socket, created as OTHER_UID when we are root. */
static int client_socket(int family, long *uid)
{
	int fd;

	*uid = (long)geteuid();
	if (*uid != 0)
		return socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(seteuid(OTHER_UID), 0);
	fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(seteuid(0), 0);
	*uid = OTHER_UID;
	return fd;
}

static socklen_t sa_make(int family, const char *addr, uint16_t port,
			 struct sockaddr_storage *ss)
{
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	ss->ss_family = (sa_family_t)family;
	if (family == AF_INET) {
		s4->sin_port = htons(port);
		assert_int_equal(inet_pton(AF_INET, addr, &s4->sin_addr), 1);
		return sizeof(*s4);
	}
	s6->sin6_port = htons(port);
	assert_int_equal(inet_pton(AF_INET6, addr, &s6->sin6_addr), 1);
	return sizeof(*s6);
}

/*
 * Listen on laddr (lfam), connect from a cfam socket to caddr, accept.
 * false when this host has no such address (no IPv6 here): skip.
 */
static bool conn_open(struct conn *c, int lfam, const char *laddr, int cfam,
		      const char *caddr)
{
	struct sockaddr_storage ss;
	socklen_t len = sa_make(lfam, laddr, 0, &ss);
	uint16_t port;
	int off = 0;

	c->lfd = socket(lfam, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->lfd < 0)
		return false;
	if (lfam == AF_INET6)
		setsockopt(c->lfd, IPPROTO_IPV6, IPV6_V6ONLY, &off,
			   sizeof(off));
	if (bind(c->lfd, (struct sockaddr *)&ss, len)) {
		close(c->lfd);
		return false;
	}
	assert_int_equal(listen(c->lfd, 4), 0);
	assert_int_equal(getsockname(c->lfd, (struct sockaddr *)&ss, &len), 0);
	port = ntohs(lfam == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port :
				       ((struct sockaddr_in6 *)&ss)->sin6_port);
	c->cli = client_socket(cfam, &c->want_uid);
	assert_true(c->cli >= 0);
	len = sa_make(cfam, caddr, port, &ss);
	assert_int_equal(connect(c->cli, (struct sockaddr *)&ss, len), 0);
	c->srv = accept4(c->lfd, NULL, NULL, SOCK_CLOEXEC);
	assert_true(c->srv >= 0);
	return true;
}

static void conn_close(struct conn *c)
{
	if (c->cli >= 0)
		close(c->cli);
	close(c->srv);
	close(c->lfd);
}

static void test_ipv4(void **state)
{
	struct conn c;

	(void)state;
	assert_true(conn_open(&c, AF_INET, "127.0.0.1", AF_INET, "127.0.0.1"));
	assert_int_equal(cf_peer_uid(c.srv), c.want_uid);
	conn_close(&c);
}

static void test_ipv6(void **state)
{
	struct conn c;

	(void)state;
	if (!conn_open(&c, AF_INET6, "::1", AF_INET6, "::1"))
		skip();
	assert_int_equal(cf_peer_uid(c.srv), c.want_uid);
	conn_close(&c);
}

/*
 * A dual-stack listener: the IPv4 client is ::ffff:127.0.0.1 to us, and
 * lives in the IPv4 table; so does an IPv6 client of a v4-mapped address.
 */
static void test_v4_mapped(void **state)
{
	struct conn c;

	(void)state;
	if (!conn_open(&c, AF_INET6, "::", AF_INET, "127.0.0.1"))
		skip();
	assert_int_equal(cf_peer_uid(c.srv), c.want_uid);
	conn_close(&c);
	assert_true(conn_open(&c, AF_INET6, "::ffff:127.0.0.1", AF_INET6,
			      "::ffff:127.0.0.1"));
	assert_int_equal(cf_peer_uid(c.srv), c.want_uid);
	conn_close(&c);
}

/*
 * A client that closed is a time-wait or orphan socket, which sock_diag
 * and /proc/net/tcp report as uid 0 or with no inode: it owns nothing.
 */
static void test_client_closed(void **state)
{
	struct conn c;

	(void)state;
	assert_true(conn_open(&c, AF_INET, "127.0.0.1", AF_INET, "127.0.0.1"));
	close(c.cli);
	c.cli = -1;
	usleep(10000);
	assert_true(cf_peer_uid(c.srv) < 0);
	conn_close(&c);
}

static void test_not_tcp(void **state)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int pair[2];

	(void)state;
	assert_int_equal(cf_peer_uid(fd), -ENOTCONN);
	close(fd);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, pair), 0);
	assert_int_equal(cf_peer_uid(pair[0]), -EAFNOSUPPORT);
	close(pair[0]);
	close(pair[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_v4_mapped),
		cmocka_unit_test(test_client_closed),
		cmocka_unit_test(test_not_tcp),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
