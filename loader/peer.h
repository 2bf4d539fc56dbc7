/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * peer.h - who is on the other end of a loopback TCP connection.
 */
#ifndef CF_PEER_H
#define CF_PEER_H

#include <stdbool.h>
#include <sys/types.h>

/*
 * The uid owning the client socket of an accepted loopback TCP connection,
 * by an exact NETLINK_SOCK_DIAG lookup of its 4-tuple (a v4-mapped pair is
 * looked up as IPv4).  Never blocks.  A negative errno when it cannot be
 * told: not a local client (-ENOENT), the client closed its socket, or no
 * sock_diag in the kernel.
 */
long cf_peer_uid(int fd);

#endif /* CF_PEER_H */
