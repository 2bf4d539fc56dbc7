/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * policy.h - the operator's policy, parsed.
 *
 * Format (one directive a line, '#' starts a comment, tokens separated by
 * blanks):
 *
 *   database [libloc|mmdb|csv] PATH   # may repeat; later ones override
 *   database default                  # the embedded default (libloc)
 *   default allow|deny
 *   malformed pass|drop               # bad IP headers (default drop)
 *   event-rate N [BURST]              # events/s per CPU (default 100 200)
 *   allow|deny|monitor country CC...  # ISO 3166-1 alpha-2, case-insensitive
 *   allow|deny|monitor asn N...       # "AS" prefix optional
 *   allow|deny|monitor net PREFIX...  # IPv4 or IPv6 prefix or address
 *
 * A country, ASN or prefix may appear in one rule only.  Precedence, most
 * specific first: net (longest prefix), asn, country, default.  Relative
 * database paths are taken from the policy file's directory.  An IPv6
 * prefix wholly inside an embedded-IPv4 range (addr.h: ::ffff:0:0/96,
 * 64:ff9b::/96, 2002::/16) is refused: it could never match.  A database
 * line without a format, `database default` among them, must name a
 * libloc database that verifies while a signing key is configured (db.h).
 */
#ifndef CF_POLICY_H
#define CF_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "err.h"

enum cf_action {
	CF_ALLOW = 0,
	CF_DENY = 1,
	CF_MONITOR = 2,
};

enum cf_match {
	CF_MATCH_COUNTRY = 0,
	CF_MATCH_ASN = 1,
	CF_MATCH_NET = 2,
};

enum cf_db_format {
	CF_DB_AUTO = 0, /* by content: libloc magic, mmdb metadata, else CSV */
	CF_DB_LIBLOC,
	CF_DB_MMDB,
	CF_DB_CSV,
};

/* One item of a rule, with the column it was written at. */
struct cf_item {
	union {
		char cc[3];	      /* upper case, NUL-terminated */
		uint32_t asn;
		struct cf_prefix net;
	};
	unsigned col;
};

struct cf_rule {
	enum cf_action action;
	enum cf_match match;
	unsigned line;
	size_t n_items;
	struct cf_item *items;
};

struct cf_db_ref {
	enum cf_db_format format; /* CF_DB_AUTO: untyped, see db.h */
	char *path; /* resolved against the policy's directory */
	unsigned line; /* 0: no database line, the default */
	unsigned col; /* of the path (or "default") */
};

struct cf_policy {
	char *path; /* "-" for standard input */
	enum cf_action default_action; /* CF_ALLOW or CF_DENY */
	enum cf_action malformed;      /* CF_ALLOW (pass) or CF_DENY (drop) */
	uint32_t event_rate;
	uint32_t event_burst;
	size_t n_dbs;
	struct cf_db_ref *dbs;
	size_t n_rules;
	struct cf_rule *rules;
};

#define CF_EVENT_RATE_DEFAULT 100
#define CF_EVENT_BURST_DEFAULT 200

/*
 * Parse text (len bytes, need not be NUL-terminated) read from path.
 * On success *out is a new policy; on error *out is untouched and e says
 * file:line:column.  A policy with no database line gets none here: the
 * caller supplies the default (cf_default_database()).
 */
int cf_policy_parse(const char *text, size_t len, const char *path,
		    struct cf_policy **out, struct cf_err *e);

/* Read and parse a file ("-" reads standard input). */
int cf_policy_load(const char *path, struct cf_policy **out, struct cf_err *e);

void cf_policy_free(struct cf_policy *p);

/* True if cc (two letters, upper case) is an assigned ISO 3166-1 code or
 * one of the special codes databases use (EU, AP, XK, A1-A3, XD). */
int cf_country_valid(const char *cc);

/* Country name for a code, or NULL. */
const char *cf_country_name(const char *cc);

/*
 * The embedded default database: /var/lib/location/database.db when it
 * exists (kept fresh by location-update.timer), else the packaged
 * /usr/share/libloc-location/location.db.  CAMFENCE_DATABASE overrides.
 */
const char *cf_default_database(void);

const char *cf_action_str(enum cf_action a);

#endif /* CF_POLICY_H */
