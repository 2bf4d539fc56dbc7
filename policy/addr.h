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
 * An IPv4 address embedded in an IPv6 one as the datapath recognises it:
 * NAT64 64:ff9b::/96, 6to4 2002::/16, IPv4-mapped ::ffff:0:0/96.
 * Returns true and sets *v4 when addr is one of them.
 */
bool cf_addr_embedded_v4(cf_u128 addr, uint32_t *v4);

#endif /* CF_ADDR_H */
