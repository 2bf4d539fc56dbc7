/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * compile.h - policy + databases -> verdict classes over address ranges.
 *
 * Decision 1 of DESIGN.md: the kernel never asks which country an address
 * is in.  The compiler layers the databases (later ones override the
 * attributes they state), gives every range the class of the most specific
 * rule that matches it (net by longest prefix > asn > country > default),
 * keeps local ranges in CF_CLASS_LOCAL unless a net rule names them, and
 * merges neighbours of the same class.  table.h turns the result into the
 * image the datapath walks.
 */
#ifndef CF_COMPILE_H
#define CF_COMPILE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "camfence.h"
#include "db.h"
#include "policy.h"

/* The policy's databases, opened and layered into one record list each. */
struct cf_dbset {
	size_t n;
	struct cf_db **db;
	struct cf_reclist v4; /* layered: sorted, disjoint */
	struct cf_reclist v6;
	time_t built_at; /* the oldest database's build time */
	void *map;	 /* v4 and v6 point into the cache file, or NULL */
	size_t map_len;
};

int cf_dbset_load(const struct cf_policy *p, struct cf_dbset **out,
		  struct cf_err *e);
void cf_dbset_free(struct cf_dbset *s);

/*
 * Keep the layered records between processes in this file (NULL or ""
 * for none): a load whose databases are the same files, unchanged (path,
 * format, device, inode, size, mtime, ctime), maps them from it instead
 * of reading the databases, which are still opened (signatures, AS
 * names).  Whoever can write the file decides what every address is: it
 * must sit where only root writes.  A cache that cannot be written is
 * not an error.
 */
void cf_dbset_cache(const char *path);

/* The layered record for an address, or NULL when no database has one. */
const struct cf_rec *cf_dbset_find(const struct cf_dbset *s, cf_u128 addr,
				   int family);

/* AS name from the last database that knows the ASN, or NULL. */
const char *cf_dbset_as_name(const struct cf_dbset *s, uint32_t asn);

/* A compiled range: [first, last] is judged by class. */
struct cf_crange {
	cf_u128 first;
	cf_u128 last;
	uint32_t class;
};

struct cf_crangelist {
	struct cf_crange *v;
	size_t n;
	size_t cap;
};

/*
 * Append [first, last] of class to l, which must end below first; a range
 * that continues the last one in the same class extends it instead, so a
 * list built in address order is always merged.
 */
int cf_crange_push(struct cf_crangelist *l, cf_u128 first, cf_u128 last,
		   uint32_t class);

struct cf_compiled {
	size_t n_classes;
	struct cf_class_meta *classes; /* [0] default, [1] local, then rules */
	struct cf_crangelist v4;       /* cover the whole family, merged */
	struct cf_crangelist v6;
	enum cf_verdict malformed;
	uint32_t event_rate;
	uint32_t event_burst;
	time_t db_built_at;
	size_t n_embedded_v6; /* IPv6 records clipped: in embedded ranges */
	uint8_t digest[32]; /* cf_compiled_digest(): what status shows */
	char policy_path[256];
};

/*
 * Compile.  dbs may be NULL for a policy with only net rules and no
 * database lines.  Fails with -E2BIG when the policy has more classes than
 * CF_CLASS_MAX.
 */
int cf_compile(const struct cf_policy *p, const struct cf_dbset *dbs,
	       struct cf_compiled **out, struct cf_err *e);
void cf_compiled_free(struct cf_compiled *c);

/*
 * What identifies a compiled policy (status, metrics, the daemon's
 * adoption, a fleet's check): SHA-256 over the settings, the classes
 * (without their policy line and rule index: moving a comment is not a
 * new policy) and the ranges of both families.  Always computed from the
 * tables, never taken from a file: an artifact's stored digest is only
 * checked against it, and a live image's is read back from its trie
 * (readback.h).  The ranges must be merged (no two neighbours of one
 * class), as cf_compile leaves them, or equal tables hash differently.
 */
void cf_compiled_digest(const struct cf_compiled *c, uint8_t out[32]);

/* The class of an address by binary search over the compiled ranges. */
uint32_t cf_compiled_class(const struct cf_compiled *c, cf_u128 addr,
			   int family);

/* The rule semantics applied directly, for lookup's explanation and as a
 * cross-check: class for an address given its database record (may be
 * NULL).  Embedded IPv4 is not unwrapped here; a record for an address in
 * an embedded range counts for nothing, as cf_compile leaves those out. */
uint32_t cf_policy_classify(const struct cf_compiled *c,
			    const struct cf_policy *p, const struct cf_rec *rec,
			    cf_u128 addr, int family);

enum cf_verdict cf_action_verdict(enum cf_action a);
const char *cf_verdict_str(enum cf_verdict v);

/* "deny country CN", "allow net 203.0.113.10/32", "default" into buf. */
const char *cf_class_str(const struct cf_class_meta *m, char *buf, size_t len);

/* True for the ranges DESIGN.md keeps local (RFC 1918, 100.64/10,
 * link-local, loopback, multicast, ULA, broadcast, unspecified). */
int cf_local_prefixes(int family, const struct cf_prefix **out, size_t *n);

#endif /* CF_COMPILE_H */
