// SPDX-License-Identifier: GPL-2.0-only
/*
 * peer.c - the owner of the client end of a loopback TCP connection.
 *
 * SO_PEERCRED answers for unix sockets only.  For TCP on loopback both
 * ends are sockets of this host, so the kernel can name the client's
 * owner: one NETLINK_SOCK_DIAG request for the exact 4-tuple of the
 * client's end (its local address is our peer, its remote address is
 * us) answers with the uid that created it.  This is what lets the
 * metrics endpoint answer root alone (and an allowed scraper uid), and
 * it is asked right after accept, before a byte of the request is read.
 *
 * An exact lookup costs one round trip whatever the number of sockets,
 * where scanning /proc/net/tcp grew with them; and it finds a client on
 * the IPv4 table when a dual-stack listener sees it as ::ffff:a.b.c.d,
 * which the tcp6 scan did not (and so locked root out).
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>

#include "peer.h"

struct diag_req {
	struct nlmsghdr nh;
	struct inet_diag_req_v2 r;
};

/* Address and port of sa into the diag id's src (or dst) fields. */
static void put_addr(const struct sockaddr_storage *ss, __be32 addr[4],
		     __be16 *port)
{
	const struct sockaddr_in6 *s6 = (const void *)ss;
	const struct sockaddr_in *s4 = (const void *)ss;

	if (ss->ss_family == AF_INET) {
		addr[0] = s4->sin_addr.s_addr;
		*port = s4->sin_port;
	} else if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
		/* the client is an IPv4 socket: its unmapped address */
		memcpy(&addr[0], &s6->sin6_addr.s6_addr[12], 4);
		*port = s6->sin6_port;
	} else {
		memcpy(addr, &s6->sin6_addr, 16);
		*port = s6->sin6_port;
	}
}

/*
 * The request for the client's end: src is the peer, dst is us.  A
 * v4-mapped pair is asked of the IPv4 table, where the client lives.
 */
static int build_req(int fd, struct diag_req *q)
{
	struct sockaddr_storage us, them;
	socklen_t a = sizeof(us), b = sizeof(them);
	const struct sockaddr_in6 *u6 = (const void *)&us;

	if (getsockname(fd, (struct sockaddr *)&us, &a) ||
	    getpeername(fd, (struct sockaddr *)&them, &b))
		return -errno;
	if (us.ss_family != them.ss_family ||
	    (us.ss_family != AF_INET && us.ss_family != AF_INET6))
		return -EAFNOSUPPORT;
	memset(q, 0, sizeof(*q));
	q->nh.nlmsg_len = sizeof(*q);
	q->nh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	q->nh.nlmsg_flags = NLM_F_REQUEST;
	q->nh.nlmsg_seq = 1;
	q->r.sdiag_family = us.ss_family;
	if (us.ss_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&u6->sin6_addr))
		q->r.sdiag_family = AF_INET;
	q->r.sdiag_protocol = IPPROTO_TCP;
	q->r.idiag_states = ~0u;
	q->r.id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
	q->r.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
	put_addr(&them, q->r.id.idiag_src, &q->r.id.idiag_sport);
	put_addr(&us, q->r.id.idiag_dst, &q->r.id.idiag_dport);
	return 0;
}

/*
 * The reply must be the client's socket, held by a process: a listener
 * (the lookup falls back to one), a time-wait or request socket (which
 * sock_diag reports as uid 0) or an orphan (inode 0) owns nobody.
 */
static long reply_uid(const struct nlmsghdr *nh, size_t len,
		      const struct diag_req *q)
{
	const struct inet_diag_msg *m = NLMSG_DATA(nh);

	if (!NLMSG_OK(nh, len) || nh->nlmsg_seq != q->nh.nlmsg_seq)
		return -EPROTO;
	if (nh->nlmsg_type == NLMSG_ERROR) {
		const struct nlmsgerr *e = NLMSG_DATA(nh);

		if (nh->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
			return -EPROTO;
		return e->error ? e->error : -EPROTO;
	}
	if (nh->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
	    nh->nlmsg_len < NLMSG_LENGTH(sizeof(*m)))
		return -EPROTO;
	if (m->id.idiag_sport != q->r.id.idiag_sport ||
	    m->id.idiag_dport != q->r.id.idiag_dport ||
	    m->idiag_state == TCP_LISTEN || m->idiag_state == TCP_TIME_WAIT ||
	    !m->idiag_inode)
		return -ENOENT;
	return (long)m->idiag_uid;
}

long cf_peer_uid(int fd)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	long buf[1024 / sizeof(long)];
	struct diag_req q;
	ssize_t n;
	long err;
	int nl;

	err = build_req(fd, &q);
	if (err)
		return err;
	nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (nl < 0)
		return -errno;
	if (sendto(nl, &q, sizeof(q), 0, (struct sockaddr *)&kernel,
		   sizeof(kernel)) != sizeof(q)) {
		err = -errno;
		goto out;
	}
	/* the kernel answers an exact request before sendto returns */
	n = recv(nl, buf, sizeof(buf), MSG_DONTWAIT);
	if (n < 0)
		err = errno == EAGAIN ? -ETIMEDOUT : -errno;
	else
		err = reply_uid((const struct nlmsghdr *)buf, (size_t)n, &q);
out:
	close(nl);
	return err;
}
