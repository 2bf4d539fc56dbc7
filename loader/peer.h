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
 * from /proc/net/tcp or tcp6 (the way identd answers).  -1 when it cannot
 * be told: not loopback, or the client is gone.
 */
long cf_peer_uid(int fd);

#endif /* CF_PEER_H */
