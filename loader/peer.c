// SPDX-License-Identifier: GPL-2.0-only
/*
 * peer.c - the owner of the client end of a loopback TCP connection.
 *
 * SO_PEERCRED answers for unix sockets only.  For TCP on loopback both
 * ends are sockets of this host, so the kernel's socket table lists the
 * client's: the row whose local address is our peer and whose remote
 * address is us carries the uid that created it.  This is what lets the
 * metrics endpoint answer root alone (and an allowed scraper uid).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "peer.h"

/* "0100007F:2609" as /proc/net/tcp prints 127.0.0.1:9737. */
static void fmt_v4(char *buf, size_t len, const struct sockaddr_in *a)
{
	snprintf(buf, len, "%08X:%04X", a->sin_addr.s_addr,
		 ntohs(a->sin_port));
}

/* IPv6: four 32-bit words, each printed in host order. */
static void fmt_v6(char *buf, size_t len, const struct sockaddr_in6 *a)
{
	const uint32_t *w = (const uint32_t *)a->sin6_addr.s6_addr;

	snprintf(buf, len, "%08X%08X%08X%08X:%04X", w[0], w[1], w[2], w[3],
		 ntohs(a->sin6_port));
}

static int fmt(char *buf, size_t len, const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		fmt_v4(buf, len, (const struct sockaddr_in *)ss);
	else if (ss->ss_family == AF_INET6)
		fmt_v6(buf, len, (const struct sockaddr_in6 *)ss);
	else
		return -1;
	return 0;
}

/* The uid column of the row local == want_local, remote == want_rem. */
static long find_uid(const char *table, const char *want_local,
		     const char *want_rem)
{
	char line[512], local[64], rem[64];
	long uid = -1, u;
	FILE *f = fopen(table, "re");

	if (!f)
		return -1;
	while (uid < 0 && fgets(line, sizeof(line), f)) {
		/* sl local rem st tx:rx tr:when retrnsmt uid */
		if (sscanf(line, " %*s %63s %63s %*s %*s %*s %*s %ld", local,
			   rem, &u) == 3 &&
		    !strcmp(local, want_local) && !strcmp(rem, want_rem))
			uid = u;
	}
	fclose(f);
	return uid;
}

long cf_peer_uid(int fd)
{
	struct sockaddr_storage us, them;
	socklen_t a = sizeof(us), b = sizeof(them);
	char s_us[64], s_them[64];

	if (getsockname(fd, (struct sockaddr *)&us, &a) ||
	    getpeername(fd, (struct sockaddr *)&them, &b) ||
	    fmt(s_us, sizeof(s_us), &us) || fmt(s_them, sizeof(s_them), &them))
		return -1;
	return find_uid(us.ss_family == AF_INET ? "/proc/net/tcp" :
						  "/proc/net/tcp6",
			s_them, s_us);
}
