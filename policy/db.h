/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * db.h - geolocation/ASN database readers.
 *
 * Each reader turns its format into records: disjoint address ranges of
 * one family, sorted by first address, each with the attributes the
 * database states for it.  Nested networks (libloc) are flattened, the
 * mmdb search tree is walked, CSV ranges are sorted and overlaps resolved
 * (the narrower range wins; on equal ranges the later line wins).
 */
#ifndef CF_DB_H
#define CF_DB_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "addr.h"
#include "err.h"
#include "policy.h"

#define CF_HAS_CC 0x1
#define CF_HAS_ASN 0x2

struct cf_rec {
	cf_u128 first;
	cf_u128 last;
	uint32_t asn;	/* valid when has & CF_HAS_ASN */
	char cc[2];	/* upper case; valid when has & CF_HAS_CC */
	uint8_t family; /* CF_AF_V4 or CF_AF_V6 */
	uint8_t has;	/* which attributes this record states */
};

struct cf_reclist {
	struct cf_rec *v;
	size_t n;
	size_t cap;
};

/* Append; returns 0 or -ENOMEM. */
int cf_reclist_push(struct cf_reclist *l, const struct cf_rec *r);
void cf_reclist_free(struct cf_reclist *l);

struct cf_db;

/*
 * Open a database.  CF_DB_AUTO detects the format by content: libloc's
 * magic "LOCDBXX", the mmdb metadata marker "\xab\xcd\xefMaxMind.com",
 * otherwise CSV.  Errors name the database and why: missing, unreadable,
 * corrupt, or an mmdb without a usable schema.
 *
 * An untyped database (CF_DB_AUTO) must be libloc, and verify, while a
 * signing key is configured (cf_db_signing_key): whoever can replace the
 * file must not get a CSV or mmdb of theirs used unverified by writing
 * it where a signed database was.  The format word is how the operator
 * says to use a CSV or mmdb file unverified.
 */
int cf_db_open(const char *path, enum cf_db_format fmt, struct cf_db **out,
	       struct cf_err *e);

/*
 * cf_db_open for a database line of the policy file named policy ("-":
 * standard input).  A refusal on trust (format, key, signature) then
 * names that line: "policy.conf:3:10: PATH: why" (policy.conf alone for
 * the default a policy without database lines gets).
 */
int cf_db_open_ref(const struct cf_db_ref *ref, const char *policy,
		   struct cf_db **out, struct cf_err *e);
void cf_db_close(struct cf_db *db);

const char *cf_db_path(const struct cf_db *db);
enum cf_db_format cf_db_format(const struct cf_db *db);
const char *cf_db_format_str(enum cf_db_format fmt);

/* Build time: libloc's created_at, mmdb build_epoch, a CSV's mtime. */
time_t cf_db_built_at(const struct cf_db *db);

/*
 * Append the records of one family (CF_AF_V4 or CF_AF_V6) to out, sorted
 * and disjoint.  IPv4 records are never reported as IPv6 ones (the mmdb
 * reader skips the IPv4 subtree and its aliases in the IPv6 walk).
 * For CSV, errors name file:line:column.
 */
int cf_db_records(struct cf_db *db, int family, struct cf_reclist *out,
		  struct cf_err *e);

/* The name of an autonomous system, or NULL if the database has none. */
const char *cf_db_as_name(struct cf_db *db, uint32_t asn);

/*
 * libloc databases are verified against the signing key before use:
 * CAMFENCE_LOCATION_KEY names it (it must then be readable), else
 * /var/lib/location/signing-key.pem when it exists; with no key, or with
 * CAMFENCE_NO_VERIFY=1, they are used unverified.  A database that fails
 * is refused by cf_db_open ("PATH: signature verification failed with
 * KEY").  What was done, for -v ("signature verified with KEY in 2.71 s",
 * "signature not verified: no signing key KEY"); NULL for other formats.
 */
const char *cf_db_verify_note(const struct cf_db *db);

/*
 * The libloc signing key databases are verified with, by the rule above,
 * or NULL when they are not (no key, or CAMFENCE_NO_VERIFY=1).
 */
const char *cf_db_signing_key(void);

/*
 * Remember verified databases across processes in this file (NULL or ""
 * for in-process only).  It must sit where only root writes: whoever can
 * write it can vouch for a database.
 */
void cf_db_verify_cache(const char *path);

/* Readers, called by cf_db_open/cf_db_records; see db_*.c. */
struct cf_db_ops {
	int (*open)(struct cf_db *db, struct cf_err *e);
	void (*close)(struct cf_db *db);
	int (*records)(struct cf_db *db, int family, struct cf_reclist *out,
		       struct cf_err *e);
	const char *(*as_name)(struct cf_db *db, uint32_t asn);
};

struct cf_db {
	char *path;
	enum cf_db_format format;
	time_t built_at;
	const struct cf_db_ops *ops;
	void *priv; /* reader state */
	bool must_verify; /* untyped while a key is configured */
	/* while opening: the database line, for refusals (cf_db_distrust) */
	const char *ref_file;
	unsigned ref_line, ref_col;
};

extern const struct cf_db_ops cf_db_libloc_ops;
extern const struct cf_db_ops cf_db_mmdb_ops;
extern const struct cf_db_ops cf_db_csv_ops;

#endif /* CF_DB_H */
