/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * artifact.h - a compiled policy in a file, for gateways without the
 * databases (`camfence compile POLICY -o FILE`, then `camfence push FILE`).
 *
 * An artifact carries what the image builder needs (classes, the ranges of
 * both families, the settings, the digest) and the policy's text for
 * explanations; never the databases.  It stores ranges rather than an
 * image so that it survives changes to the image layout, and because
 * ranges are a fraction of the image's size.
 *
 * Format, version 1.  Integers are little-endian; addresses are in
 * network order.
 *
 *   off  size  header (CF_ARTIFACT_HDR_LEN bytes)
 *     0     4  magic "CFPA"
 *     4     4  format version (CF_ARTIFACT_VERSION)
 *     8     4  header length
 *    12     4  flags, 0
 *    16     8  payload length (the bytes between header and checksum)
 *    24     4  classes
 *    28     4  IPv4 ranges
 *    32     4  IPv6 ranges
 *    36     4  policy path length
 *    40     4  policy text length
 *    44     4  malformed verdict (enum cf_verdict)
 *    48     4  event rate
 *    52     4  event burst
 *    56     8  oldest database build time (unix, signed)
 *    64     8  time of compilation (unix, signed)
 *    72    32  the compiled policy's digest (cf_compiled_digest)
 *   104    24  zero
 *
 *   payload, in this order
 *     classes   16 bytes each: kind, verdict, cc[2], asn, line, rule
 *     IPv4       8 bytes each: first address, class
 *     IPv6      20 bytes each: first address, class
 *     path      policy path (no NUL)
 *     text      policy text
 *
 *   32 bytes: SHA-256 of everything before it
 *
 * A range ends where the next begins (the last at the family's end), so
 * a list always covers its family with no gap and no overlap; two
 * neighbours never share a class (the compiler merges them).
 *
 * The trailer is a checksum against damage, not a signature: anyone can
 * reseal an altered file.  So the reader trusts no claim the payload
 * cannot back: the digest is recomputed from the decoded tables, and a
 * header digest that differs refuses the file.
 */
#ifndef CF_ARTIFACT_H
#define CF_ARTIFACT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "compile.h"
#include "err.h"

#define CF_ARTIFACT_MAGIC "CFPA"
#define CF_ARTIFACT_VERSION 1
#define CF_ARTIFACT_HDR_LEN 128
#define CF_ARTIFACT_SUM_LEN 32
/*
 * Far above any real policy (every network of location.db as a range of
 * its own, gaps included, is under 30 MiB), and low enough that a crafted
 * file cannot make the reader allocate without bound.
 */
#define CF_ARTIFACT_MAX (64u << 20)
/* As the parser's limit on a policy's text. */
#define CF_ARTIFACT_TEXT_MAX (16u << 20)

/* What an artifact says about itself besides the compiled policy. */
struct cf_artifact_info {
	uint32_t version;
	time_t compiled_at;
	size_t size; /* bytes of the whole file */
};

/* True when buf starts like an artifact (the magic), whatever follows. */
bool cf_artifact_sniff(const void *buf, size_t len);

/*
 * Serialise c and the policy text (text_len bytes) into a new buffer of
 * *out_len bytes.  compiled_at goes into the header as is.
 */
int cf_artifact_write(const struct cf_compiled *c, const char *text,
		      size_t text_len, time_t compiled_at, void **out,
		      size_t *out_len, struct cf_err *e);

/*
 * Check and decode an artifact of len bytes read from name (for errors).
 * On success *c is a new compiled policy (cf_compiled_free) and *text a
 * new NUL-terminated copy of the policy text (*text_len bytes without the
 * NUL); info may be NULL.  (*c)->digest is computed from the tables
 * read.  Fails with -EINVAL and "name: what" on a bad magic or version, a
 * truncated or corrupt file, contents that do not make a valid policy, or
 * a header digest other than the tables'.
 */
int cf_artifact_read(const void *buf, size_t len, const char *name,
		     struct cf_compiled **c, char **text, size_t *text_len,
		     struct cf_artifact_info *info, struct cf_err *e);

#endif /* CF_ARTIFACT_H */
