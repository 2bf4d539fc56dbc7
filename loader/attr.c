// SPDX-License-Identifier: GPL-2.0-only
/*
 * attr.c - country and AS of an address, from the policy's databases.
 */
#include <stdio.h>
#include <string.h>

#include "attr.h"
#include "json.h"

void cf_attr_find(const struct cf_dbset *dbs, cf_u128 addr, int family,
		  struct cf_attr *a)
{
	uint32_t v4;
	char cc[3] = "";

	memset(a, 0, sizeof(*a));
	a->addr = addr;
	a->family = family;
	/* the datapath judges the IPv4 address an IPv6 one carries */
	if (family == CF_AF_V6 && cf_addr_embedded_v4(addr, &v4)) {
		a->addr = v4;
		a->family = CF_AF_V4;
		a->embedded = true;
	}
	if (!dbs)
		return;
	a->rec = cf_dbset_find(dbs, a->addr, a->family);
	if (a->rec && (a->rec->has & CF_HAS_CC)) {
		memcpy(cc, a->rec->cc, 2);
		a->country_name = cf_country_name(cc);
	}
	if (a->rec && (a->rec->has & CF_HAS_ASN))
		a->as_name = cf_dbset_as_name(dbs, a->rec->asn);
}

const char *cf_attr_str(const struct cf_attr *a, char *buf, size_t len)
{
	const struct cf_rec *r = a->rec;
	size_t n = 0;

	buf[0] = '\0';
	if (r && (r->has & CF_HAS_CC))
		n += snprintf(buf, len, "%.2s%s%s%s", r->cc,
			      a->country_name ? " (" : "",
			      a->country_name ? a->country_name : "",
			      a->country_name ? ")" : "");
	if (r && (r->has & CF_HAS_ASN) && n < len)
		snprintf(buf + n, len - n, "%sAS%u%s%s", n ? ", " : "", r->asn,
			 a->as_name ? " " : "", a->as_name ? a->as_name : "");
	if (!buf[0])
		snprintf(buf, len, "not in the databases");
	return buf;
}

void cf_attr_json(const struct cf_attr *a)
{
	const struct cf_rec *r = a->rec;
	struct json_writer *jw = cf_json();
	char addr[CF_ADDR_STRLEN];

	jw_string_field(jw, "addr", cf_addr_format(a->addr, a->family, addr));
	jw_bool_field(jw, "embedded", a->embedded);
	jw_name(jw, "country");
	if (r && (r->has & CF_HAS_CC))
		jw_printf(jw, "%.2s", r->cc);
	else
		jw_null(jw);
	jw_string_field(jw, "country_name", a->country_name);
	jw_name(jw, "asn");
	if (r && (r->has & CF_HAS_ASN))
		jw_uint(jw, r->asn);
	else
		jw_null(jw);
	jw_string_field(jw, "as_name", a->as_name);
}
