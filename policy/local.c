// SPDX-License-Identifier: GPL-2.0-only
/*
 * local.c - the ranges a camera must keep reaching (its recorder, DHCP,
 * NTP on the LAN, multicast discovery).  They behave as built-in "allow
 * net" rules that an operator's net rule of equal or longer prefix
 * overrides; see compile.c.
 */
#include "compile.h"

#define V4(a, b, c, d) ((cf_u128)((uint32_t)(a) << 24 | (b) << 16 | (c) << 8 | (d)))
#define V6(hi16) ((cf_u128)(hi16) << 112)

static const struct cf_prefix local_v4[] = {
	{ V4(0, 0, 0, 0), CF_AF_V4, 8 },	/* "this network" */
	{ V4(10, 0, 0, 0), CF_AF_V4, 8 },	/* RFC 1918 */
	{ V4(100, 64, 0, 0), CF_AF_V4, 10 },	/* RFC 6598 shared CGN */
	{ V4(127, 0, 0, 0), CF_AF_V4, 8 },	/* loopback */
	{ V4(169, 254, 0, 0), CF_AF_V4, 16 },	/* link-local */
	{ V4(172, 16, 0, 0), CF_AF_V4, 12 },	/* RFC 1918 */
	{ V4(192, 168, 0, 0), CF_AF_V4, 16 },	/* RFC 1918 */
	{ V4(224, 0, 0, 0), CF_AF_V4, 4 },	/* multicast */
	{ V4(255, 255, 255, 255), CF_AF_V4, 32 }, /* limited broadcast */
};

static const struct cf_prefix local_v6[] = {
	{ 0, CF_AF_V6, 128 },			/* unspecified */
	{ 1, CF_AF_V6, 128 },			/* loopback */
	{ V6(0xfc00), CF_AF_V6, 7 },		/* ULA */
	{ V6(0xfe80), CF_AF_V6, 10 },		/* link-local */
	{ V6(0xff00), CF_AF_V6, 8 },		/* multicast */
};

int cf_local_prefixes(int family, const struct cf_prefix **out, size_t *n)
{
	if (family == CF_AF_V4) {
		*out = local_v4;
		*n = sizeof(local_v4) / sizeof(local_v4[0]);
	} else {
		*out = local_v6;
		*n = sizeof(local_v6) / sizeof(local_v6[0]);
	}
	return 0;
}
