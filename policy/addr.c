// SPDX-License-Identifier: GPL-2.0-only
/*
 * addr.c - parse, format and convert IPv4/IPv6 addresses and prefixes.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "addr.h"

/* The host part of a prefix of len bits in a family. */
static cf_u128 host_mask(int family, unsigned len)
{
	unsigned host = cf_af_bits(family) - len;

	/* A shift by the full width of the type is undefined. */
	if (host >= 128)
		return ~(cf_u128)0;
	return ((cf_u128)1 << host) - 1;
}

cf_u128 cf_prefix_first(const struct cf_prefix *p)
{
	return p->addr & ~host_mask(p->family, p->len);
}

cf_u128 cf_prefix_last(const struct cf_prefix *p)
{
	return cf_prefix_first(p) | host_mask(p->family, p->len);
}

int cf_addr_parse(const char *s, cf_u128 *addr, int *family)
{
	uint8_t b[16];
	int fam;

	if (!s)
		return -EINVAL;
	/* inet_pton alone rejects what getaddrinfo would accept ("1",
	 * "0x7f.1", "fe80::1%eth0"): an operator's prefix is never those. */
	fam = strchr(s, ':') ? CF_AF_V6 : CF_AF_V4;
	if (inet_pton(fam == CF_AF_V6 ? AF_INET6 : AF_INET, s, b) != 1)
		return -EINVAL;
	*addr = cf_addr_from_bytes(b, fam);
	*family = fam;
	return 0;
}

static int set_why(const char **why, const char *reason)
{
	if (why)
		*why = reason;
	return -EINVAL;
}

/* The decimal length after the '/', at most the family's bits. */
static int parse_len(const char *s, int family, unsigned *len, const char **why)
{
	unsigned v = 0;
	size_t i;

	if (!*s)
		return set_why(why, "missing prefix length after '/'");
	for (i = 0; s[i]; i++) {
		if (s[i] < '0' || s[i] > '9')
			return set_why(why, "prefix length is not a number");
		/* Three digits bound the value before it can overflow. */
		if (i < 3)
			v = v * 10 + (s[i] - '0');
	}
	if (i > 3 || v > cf_af_bits(family))
		return set_why(
			why,
			family == CF_AF_V4 ?
				"prefix length out of range for IPv4 (0-32)" :
				"prefix length out of range for IPv6 (0-128)");
	*len = v;
	return 0;
}

/*
 * When host bits are set, *p still receives the prefix with them cleared
 * (and -EINVAL is returned) so that callers can suggest what was meant.
 */
int cf_prefix_parse(const char *s, struct cf_prefix *p, const char **why)
{
	char buf[INET6_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	unsigned len;
	cf_u128 a;
	int fam, err;

	if (!alen)
		return set_why(why, slash ? "missing address before '/'" :
					    "empty address");
	if (alen >= sizeof(buf))
		return set_why(why, "not an IPv4 or IPv6 address");
	memcpy(buf, s, alen);
	buf[alen] = '\0';
	if (cf_addr_parse(buf, &a, &fam))
		return set_why(why, "not an IPv4 or IPv6 address");
	len = cf_af_bits(fam);
	if (slash) {
		err = parse_len(slash + 1, fam, &len, why);
		if (err)
			return err;
	}
	p->family = fam;
	p->len = len;
	p->addr = a & ~host_mask(fam, len);
	if (p->addr != a)
		return set_why(why, "host bits set");
	return 0;
}

void cf_addr_to_bytes(cf_u128 addr, int family, uint8_t out[16])
{
	unsigned n = family == CF_AF_V4 ? 4 : 16;
	unsigned i;

	memset(out, 0, 16);
	for (i = 0; i < n; i++)
		out[i] = (uint8_t)(addr >> (8 * (n - 1 - i)));
}

cf_u128 cf_addr_from_bytes(const uint8_t *in, int family)
{
	unsigned n = family == CF_AF_V4 ? 4 : 16;
	cf_u128 v = 0;
	unsigned i;

	for (i = 0; i < n; i++)
		v = v << 8 | in[i];
	return v;
}

char *cf_addr_format(cf_u128 addr, int family, char *buf)
{
	int af = family == CF_AF_V4 ? AF_INET : AF_INET6;
	uint8_t b[16];

	cf_addr_to_bytes(addr, family, b);
	if (!inet_ntop(af, b, buf, CF_ADDR_STRLEN))
		strcpy(buf, "?");
	return buf;
}

const struct cf_embedded cf_embedded[CF_N_EMBEDDED] = {
	{ { (cf_u128)0xffff << 32, CF_AF_V6, 96 },
	  0,
	  "IPv4-mapped",
	  "::ffff:0:0/96" },
	{ { (cf_u128)0x0064ff9b << 96, CF_AF_V6, 96 },
	  0,
	  "NAT64",
	  "64:ff9b::/96" },
	{ { (cf_u128)0x2002 << 112, CF_AF_V6, 16 }, 80, "6to4", "2002::/16" },
};

/* Is the prefix (addr, len) inside the embedded range em? */
static bool inside(const struct cf_embedded *em, cf_u128 addr, unsigned len)
{
	unsigned host = 128 - em->pfx.len;

	return len >= em->pfx.len && addr >> host == em->pfx.addr >> host;
}

bool cf_addr_embedded_v4(cf_u128 addr, uint32_t *v4)
{
	for (size_t i = 0; i < CF_N_EMBEDDED; i++) {
		if (inside(&cf_embedded[i], addr, 128)) {
			*v4 = (uint32_t)(addr >> cf_embedded[i].v4_shift);
			return true;
		}
	}
	return false;
}

const struct cf_embedded *cf_prefix_embedded_v4(const struct cf_prefix *p,
						struct cf_prefix *v4)
{
	const struct cf_embedded *em;
	unsigned above; /* the prefix bits above the IPv4 address */
	size_t i;

	if (p->family != CF_AF_V6)
		return NULL;
	for (i = 0; i < CF_N_EMBEDDED; i++)
		if (inside(&cf_embedded[i], p->addr, p->len))
			break;
	if (i == CF_N_EMBEDDED)
		return NULL;
	em = &cf_embedded[i];
	above = 128 - 32 - em->v4_shift;
	v4->family = CF_AF_V4;
	v4->len = p->len - above > 32 ? 32 : p->len - above;
	v4->addr = (uint32_t)(p->addr >> em->v4_shift);
	v4->addr &= ~host_mask(CF_AF_V4, v4->len);
	return em;
}
