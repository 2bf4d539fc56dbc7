/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * attr.h - attribute an address to its country and AS (decision 1: the
 * kernel never does; userspace explains what it logged).
 */
#ifndef CF_ATTR_H
#define CF_ATTR_H

#include <stdbool.h>
#include <stddef.h>

#include "compile.h"

struct cf_attr {
	cf_u128 addr;	    /* the address judged: IPv4 when embedded */
	int family;
	bool embedded;	    /* taken from inside an IPv6 address */
	const struct cf_rec *rec; /* layered database record, or NULL */
	const char *country_name;
	const char *as_name;
};

/* dbs may be NULL: then only the embedded IPv4 is worked out. */
void cf_attr_find(const struct cf_dbset *dbs, cf_u128 addr, int family,
		  struct cf_attr *a);

/* "RU (Russia), AS64500 EXAMPLE-NET" or "not in the databases". */
const char *cf_attr_str(const struct cf_attr *a, char *buf, size_t len);

/* country, country_name, asn, as_name fields into an open JSON object. */
void cf_attr_json(const struct cf_attr *a);

#endif /* CF_ATTR_H */
