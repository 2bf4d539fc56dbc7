/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * addr.h - addresses and prefixes as the compiler sees them.
 *
 * Both families are held in an unsigned __int128: IPv4 in the low 32 bits,
 * IPv6 as the whole value, most significant byte first.  A family tag keeps
 * them apart; ranges of the two families never mix.
 */
#ifndef CF_ADDR_H
#define CF_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef unsigned __int128 cf_u128;

#define CF_AF_V4 4
#define CF_AF_V6 6

struct cf_prefix {
	cf_u128 addr; /* host bits cleared */
	uint8_t family;
	uint8_t len;
};

static inline unsigned cf_af_bits(int family)
{
	return family == CF_AF_V4 ? 32 : 128;
}

/* The largest address of a family. */
static inline cf_u128 cf_af_max(int family)
{
	return family == CF_AF_V4 ? (cf_u128)0xffffffffu : ~(cf_u128)0;
}

/* First and last address of a prefix. */
cf_u128 cf_prefix_first(const struct cf_prefix *p);
cf_u128 cf_prefix_last(const struct cf_prefix *p);

/*
 * Parse "192.0.2.0/24", "2001:db8::/32" or a bare address (full length).
 * Returns 0, or -EINVAL with a reason in *why; when host bits are set the
 * result is -EINVAL too (the operator probably meant something else).
 */
int cf_prefix_parse(const char *s, struct cf_prefix *p, const char **why);

/* Parse a bare address of either family. */
int cf_addr_parse(const char *s, cf_u128 *addr, int *family);

/* 16-byte network-order form, IPv4 as in a v4-mapped address or raw. */
void cf_addr_to_bytes(cf_u128 addr, int family, uint8_t out[16]);
cf_u128 cf_addr_from_bytes(const uint8_t *in, int family);

/* Format into buf (at least CF_ADDR_STRLEN bytes); returns buf. */
#define CF_ADDR_STRLEN 48
char *cf_addr_format(cf_u128 addr, int family, char *buf);

/*
 * The IPv6 prefixes whose addresses the datapath judges by the IPv4
 * address they carry (bpf/lookup.h, cf_embedded_v4), by address:
 * IPv4-mapped ::ffff:0:0/96, NAT64 64:ff9b::/96 (RFC 6052) and 6to4
 * 2002::/16 (RFC 3056).  The IPv4 address is the 32 bits above v4_shift.
 * Its IPv6 table is never asked about them: an IPv6 net rule wholly
 * inside one can never match (the parser refuses it), and database
 * records there are left out (compile.c).
 */
struct cf_embedded {
	struct cf_prefix pfx;
	uint8_t v4_shift;
	const char *name; /* "IPv4-mapped", "NAT64", "6to4" */
	const char *text; /* the prefix as people write it */
};

#define CF_N_EMBEDDED 3
extern const struct cf_embedded cf_embedded[CF_N_EMBEDDED];

/*
 * An IPv4 address embedded in an IPv6 one as the datapath recognises it
 * (cf_embedded).  Returns true and sets *v4 when addr is one of them.
 */
bool cf_addr_embedded_v4(cf_u128 addr, uint32_t *v4);

/*
 * The embedded range an IPv6 prefix lies wholly inside, or NULL; *v4 is
 * then the IPv4 prefix its addresses are judged as (a 6to4 prefix longer
 * than /48 as the one IPv4 address it carries).  A prefix that only
 * contains an embedded range (2000::/3) is not inside one.
 */
const struct cf_embedded *cf_prefix_embedded_v4(const struct cf_prefix *p,
						struct cf_prefix *v4);

/*
 * 64:ff9b:1::/48, RFC 8215's local-use NAT64: not decoded.  Its IPv4
 * address sits where the prefix length the site chose puts it; a guess
 * could read a denied address as a local one.  So it is judged as IPv6.
 */
static inline bool cf_addr_nat64_local(cf_u128 addr)
{
	return addr >> 80 == (cf_u128)0x0064ff9b0001ull;
}

#endif /* CF_ADDR_H */
