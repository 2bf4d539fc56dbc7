// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_addr.c - prefixes and addresses: parsing, formatting, bytes,
 * first/last, and the embedded-IPv4 forms the datapath unwraps.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "addr.h"

/* Build a 128-bit value from its upper and lower 64 bits. */
static cf_u128 u128(uint64_t hi, uint64_t lo)
{
	return (cf_u128)hi << 64 | lo;
}

static void assert_u128(cf_u128 got, cf_u128 want)
{
	if (got != want)
		fail_msg("got %016llx%016llx, want %016llx%016llx",
			 (unsigned long long)(got >> 64),
			 (unsigned long long)got,
			 (unsigned long long)(want >> 64),
			 (unsigned long long)want);
}

static void prefix_ok(const char *s, int family, cf_u128 addr, unsigned len)
{
	struct cf_prefix p;
	const char *why = NULL;
	int err = cf_prefix_parse(s, &p, &why);

	if (err)
		fail_msg("'%s': %s", s, why);
	assert_int_equal(p.family, family);
	assert_int_equal(p.len, len);
	assert_u128(p.addr, addr);
}

static void prefix_bad(const char *s, const char *reason)
{
	struct cf_prefix p = { .family = 0 };
	const char *why = NULL;

	assert_int_equal(cf_prefix_parse(s, &p, &why), -EINVAL);
	assert_non_null(why);
	if (!strstr(why, reason))
		fail_msg("'%s': reason '%s' lacks '%s'", s, why, reason);
	/* Only the host-bits case fills in a prefix. */
	assert_int_equal(p.family, 0);
}

static void test_prefix_v4(void **state)
{
	(void)state;
	prefix_ok("192.0.2.0/24", CF_AF_V4, 0xc0000200, 24);
	prefix_ok("192.0.2.1", CF_AF_V4, 0xc0000201, 32);
	prefix_ok("192.0.2.1/32", CF_AF_V4, 0xc0000201, 32);
	prefix_ok("0.0.0.0/0", CF_AF_V4, 0, 0);
	prefix_ok("0.0.0.0", CF_AF_V4, 0, 32);
	prefix_ok("255.255.255.255", CF_AF_V4, 0xffffffff, 32);
	prefix_ok("128.0.0.0/1", CF_AF_V4, 0x80000000, 1);
	prefix_ok("10.0.0.0/8", CF_AF_V4, 0x0a000000, 8);
	/* Leading zeros in the length are just digits. */
	prefix_ok("10.0.0.0/08", CF_AF_V4, 0x0a000000, 8);
}

static void test_prefix_v6(void **state)
{
	(void)state;
	prefix_ok("2001:db8::/32", CF_AF_V6, u128(0x20010db800000000ull, 0),
		  32);
	prefix_ok("::/0", CF_AF_V6, 0, 0);
	prefix_ok("::", CF_AF_V6, 0, 128);
	prefix_ok("::1", CF_AF_V6, 1, 128);
	prefix_ok("::1/128", CF_AF_V6, 1, 128);
	prefix_ok("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", CF_AF_V6,
		  ~(cf_u128)0, 128);
	prefix_ok("8000::/1", CF_AF_V6, (cf_u128)1 << 127, 1);
	prefix_ok("2001:DB8:0:0:0:0:0:1", CF_AF_V6,
		  u128(0x20010db800000000ull, 1), 128);
	prefix_ok("::ffff:192.0.2.0/120", CF_AF_V6,
		  u128(0, 0x0000ffffc0000200ull), 120);
	/* A prefix ending at the 64-bit boundary and just past it. */
	prefix_ok("2001:db8:1:2::/64", CF_AF_V6, u128(0x20010db800010002ull, 0),
		  64);
	prefix_ok("2001:db8:1:2:8000::/65", CF_AF_V6,
		  u128(0x20010db800010002ull, 0x8000000000000000ull), 65);
}

static void test_prefix_bad(void **state)
{
	(void)state;
	prefix_bad("", "empty address");
	prefix_bad("/24", "missing address");
	prefix_bad("192.0.2.0/", "missing prefix length");
	prefix_bad("192.0.2.0/33", "out of range for IPv4 (0-32)");
	prefix_bad("192.0.2.0/0032", "out of range for IPv4");
	prefix_bad("192.0.2.0/99999999999999999999", "out of range");
	prefix_bad("::/129", "out of range for IPv6 (0-128)");
	prefix_bad("192.0.2.0/2a", "not a number");
	prefix_bad("192.0.2.0/-1", "not a number");
	prefix_bad("192.0.2.0/+8", "not a number");
	prefix_bad("192.0.2.0/ 8", "not a number");
	prefix_bad("2001:db8::/32/1", "not a number");
	prefix_bad("192.0.2", "not an IPv4 or IPv6 address");
	prefix_bad("256.0.0.0", "not an IPv4");
	prefix_bad("01.2.3.4", "not an IPv4");
	prefix_bad("1.2.3.4.5", "not an IPv4");
	prefix_bad("0x7f.0.0.1", "not an IPv4");
	prefix_bad("fe80::1%eth0", "not an IPv4 or IPv6");
	prefix_bad("2001:db8:::1", "not an IPv4 or IPv6");
	prefix_bad("1:2:3:4:5:6:7:8:9", "not an IPv4 or IPv6");
	prefix_bad("example.com", "not an IPv4");
	prefix_bad(" 192.0.2.1", "not an IPv4");
	/* Longer than any address can be written. */
	prefix_bad("0000:0000:0000:0000:0000:0000:0000:0000:0000:0000/8",
		   "not an IPv4 or IPv6");
}

static void test_prefix_host_bits(void **state)
{
	struct cf_prefix p;
	const char *why = NULL;

	(void)state;
	assert_int_equal(cf_prefix_parse("192.0.2.1/24", &p, &why), -EINVAL);
	assert_string_equal(why, "host bits set");
	/* What the operator probably meant, for the error message. */
	assert_int_equal(p.family, CF_AF_V4);
	assert_int_equal(p.len, 24);
	assert_u128(p.addr, 0xc0000200);

	assert_int_equal(cf_prefix_parse("2001:db8::1/32", &p, &why), -EINVAL);
	assert_string_equal(why, "host bits set");
	assert_int_equal(p.family, CF_AF_V6);
	assert_u128(p.addr, u128(0x20010db800000000ull, 0));

	assert_int_equal(cf_prefix_parse("0.0.0.1/0", &p, &why), -EINVAL);
	assert_int_equal(cf_prefix_parse("::1/0", &p, &why), -EINVAL);
	assert_int_equal(cf_prefix_parse("::1/127", &p, &why), -EINVAL);
	assert_int_equal(cf_prefix_parse("192.0.2.129/25", &p, &why), -EINVAL);
	/* why may be NULL. */
	assert_int_equal(cf_prefix_parse("192.0.2.1/24", &p, NULL), -EINVAL);
	assert_int_equal(cf_prefix_parse("x", &p, NULL), -EINVAL);
}

static void first_last(const char *s, cf_u128 first, cf_u128 last)
{
	struct cf_prefix p;

	assert_int_equal(cf_prefix_parse(s, &p, NULL), 0);
	assert_u128(cf_prefix_first(&p), first);
	assert_u128(cf_prefix_last(&p), last);
}

static void test_first_last(void **state)
{
	(void)state;
	first_last("192.0.2.0/24", 0xc0000200, 0xc00002ff);
	first_last("192.0.2.7", 0xc0000207, 0xc0000207);
	first_last("0.0.0.0/0", 0, 0xffffffff);
	first_last("128.0.0.0/1", 0x80000000, 0xffffffff);
	first_last("::/0", 0, ~(cf_u128)0);
	first_last("::1", 1, 1);
	first_last("2001:db8::/32", u128(0x20010db800000000ull, 0),
		   u128(0x20010db8ffffffffull, ~0ull));
	first_last("2001:db8:1:2::/64", u128(0x20010db800010002ull, 0),
		   u128(0x20010db800010002ull, ~0ull));
	first_last("8000::/1", (cf_u128)1 << 127, ~(cf_u128)0);
	assert_u128(cf_af_max(CF_AF_V4), 0xffffffff);
	assert_u128(cf_af_max(CF_AF_V6), ~(cf_u128)0);
}

static void test_addr_parse(void **state)
{
	cf_u128 a = 0;
	int fam = 0;

	(void)state;
	assert_int_equal(cf_addr_parse("198.51.100.7", &a, &fam), 0);
	assert_int_equal(fam, CF_AF_V4);
	assert_u128(a, 0xc6336407);
	assert_int_equal(cf_addr_parse("2001:db8::7", &a, &fam), 0);
	assert_int_equal(fam, CF_AF_V6);
	assert_u128(a, u128(0x20010db800000000ull, 7));
	assert_int_equal(cf_addr_parse("192.0.2.0/24", &a, &fam), -EINVAL);
	assert_int_equal(cf_addr_parse("", &a, &fam), -EINVAL);
	assert_int_equal(cf_addr_parse(NULL, &a, &fam), -EINVAL);
	/* A failed parse leaves the outputs alone. */
	assert_int_equal(fam, CF_AF_V6);
	assert_u128(a, u128(0x20010db800000000ull, 7));
}

static void test_bytes(void **state)
{
	static const uint8_t v4[16] = { 192, 0, 2, 1 };
	static const uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8, 1, 2,  3,  4,
					5,    6,    7,	  8,	9, 10, 11, 12 };
	uint8_t out[16];

	(void)state;
	/* IPv4 in out[0..3], the rest zero: struct cf_event's layout. */
	memset(out, 0xaa, sizeof(out));
	cf_addr_to_bytes(0xc0000201, CF_AF_V4, out);
	assert_memory_equal(out, v4, 16);
	assert_u128(cf_addr_from_bytes(v4, CF_AF_V4), 0xc0000201);

	cf_addr_to_bytes(u128(0x20010db801020304ull, 0x05060708090a0b0cull),
			 CF_AF_V6, out);
	assert_memory_equal(out, v6, 16);
	assert_u128(cf_addr_from_bytes(v6, CF_AF_V6),
		    u128(0x20010db801020304ull, 0x05060708090a0b0cull));

	/* Only four bytes are read for IPv4, whatever follows them. */
	assert_u128(cf_addr_from_bytes(v6, CF_AF_V4), 0x20010db8);
	cf_addr_to_bytes(~(cf_u128)0, CF_AF_V6, out);
	assert_u128(cf_addr_from_bytes(out, CF_AF_V6), ~(cf_u128)0);
}

/* Parse then format gives back the canonical text. */
static void round_trip(const char *in, const char *want)
{
	char buf[CF_ADDR_STRLEN];
	cf_u128 a;
	int fam;

	assert_int_equal(cf_addr_parse(in, &a, &fam), 0);
	assert_ptr_equal(cf_addr_format(a, fam, buf), buf);
	assert_string_equal(buf, want);
}

static void test_format(void **state)
{
	(void)state;
	round_trip("192.0.2.1", "192.0.2.1");
	round_trip("0.0.0.0", "0.0.0.0");
	round_trip("255.255.255.255", "255.255.255.255");
	round_trip("10.1.2.3", "10.1.2.3");
	round_trip("::", "::");
	round_trip("::1", "::1");
	round_trip("2001:db8::1", "2001:db8::1");
	round_trip("2001:DB8:0:0:0::1", "2001:db8::1");
	round_trip("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1");
	round_trip("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
		   "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	round_trip("::ffff:c000:201", "::ffff:192.0.2.1");
	round_trip("64:ff9b::192.0.2.1", "64:ff9b::c000:201");
}

static void embedded(const char *s, bool want, uint32_t want_v4)
{
	uint32_t v4 = 0xdeadbeef;
	cf_u128 a;
	int fam;

	assert_int_equal(cf_addr_parse(s, &a, &fam), 0);
	assert_int_equal(fam, CF_AF_V6);
	if (cf_addr_embedded_v4(a, &v4) != want)
		fail_msg("%s: embedded IPv4 %s expected", s, want ? "" : "not");
	if (want)
		assert_int_equal(v4, want_v4);
}

static void test_embedded_v4(void **state)
{
	(void)state;
	embedded("64:ff9b::c000:201", true, 0xc0000201);
	embedded("64:ff9b::", true, 0);
	embedded("64:ff9b::255.255.255.255", true, 0xffffffff);
	embedded("::ffff:192.0.2.1", true, 0xc0000201);
	embedded("::ffff:0.0.0.0", true, 0);
	embedded("2002:c000:201::", true, 0xc0000201);
	/* 6to4: whatever follows the /48 does not matter. */
	embedded("2002:c000:201:ffff:1:2:3:4", true, 0xc0000201);
	embedded("2002:ffff:ffff::1", true, 0xffffffff);
}

static void test_embedded_near_misses(void **state)
{
	(void)state;
	embedded("64:ff9b:1::c000:201", false, 0); /* RFC 8215 local-use */
	embedded("64:ff9a::c000:201", false, 0);
	embedded("65:ff9b::c000:201", false, 0);
	embedded("64:ff9b::1:c000:201", false, 0); /* bit 32 set */
	embedded("64:ff9b:0:0:0:8000:c000:201", false, 0);
	embedded("::fffe:192.0.2.1", false, 0);
	embedded("::1:ffff:192.0.2.1", false, 0); /* bit 48 set */
	embedded("1::ffff:192.0.2.1", false, 0);
	embedded("::192.0.2.1", false, 0); /* deprecated compat */
	embedded("2003:c000:201::", false, 0);
	embedded("2001:2002::", false, 0);
	embedded("0:2002:c000:201::", false, 0);
	embedded("::", false, 0);
	embedded("::1", false, 0);
	embedded("2001:db8::c000:201", false, 0);
}

/* An IPv6 prefix wholly inside an embedded range, and its IPv4 prefix. */
static void inside(const char *s, const char *name, const char *v4s,
		   unsigned v4len)
{
	const struct cf_embedded *em;
	struct cf_prefix p, v4 = { 0 };
	const char *why = NULL;
	cf_u128 want;
	int fam;

	assert_int_equal(cf_prefix_parse(s, &p, &why), 0);
	em = cf_prefix_embedded_v4(&p, &v4);
	if (!em)
		fail_msg("%s: not inside an embedded range", s);
	assert_string_equal(em->name, name);
	assert_int_equal(cf_addr_parse(v4s, &want, &fam), 0);
	assert_int_equal(v4.family, CF_AF_V4);
	assert_int_equal(v4.len, v4len);
	assert_u128(v4.addr, want);
}

static void not_inside(const char *s)
{
	struct cf_prefix p, v4 = { 0 };
	const char *why = NULL;

	assert_int_equal(cf_prefix_parse(s, &p, &why), 0);
	if (cf_prefix_embedded_v4(&p, &v4))
		fail_msg("%s: inside an embedded range", s);
}

static void test_prefix_embedded(void **state)
{
	(void)state;
	inside("::ffff:1.2.3.4", "IPv4-mapped", "1.2.3.4", 32);
	inside("::ffff:1.2.3.0/120", "IPv4-mapped", "1.2.3.0", 24);
	inside("::ffff:0:0/96", "IPv4-mapped", "0.0.0.0", 0);
	inside("64:ff9b::/96", "NAT64", "0.0.0.0", 0);
	inside("64:ff9b::c000:200/120", "NAT64", "192.0.2.0", 24);
	inside("64:ff9b::8000:0/97", "NAT64", "128.0.0.0", 1);
	inside("2002::/16", "6to4", "0.0.0.0", 0);
	inside("2002:c000:200::/40", "6to4", "192.0.2.0", 24);
	inside("2002:c000:201::/48", "6to4", "192.0.2.1", 32);
	inside("2002:c000:201:7::/64", "6to4", "192.0.2.1", 32);
	inside("2002:c000:201::1", "6to4", "192.0.2.1", 32);
	inside("2002:8000::/17", "6to4", "128.0.0.0", 1);
	/* around an embedded range, beside one, or not decoded at all */
	not_inside("::/0");
	not_inside("2000::/3");
	not_inside("2002::/15");
	not_inside("2003::/16");
	not_inside("::fffe:0:0/95"); /* holds ::ffff:0:0/96 */
	not_inside("::fffe:0:0/96");
	not_inside("64:ff9b::/95");
	not_inside("64:ff9b::/32");
	not_inside("64:ff9b:1::/48");
	not_inside("64:ff9b:1::c000:201");
	not_inside("::/96");
	not_inside("::1.2.3.4");
	not_inside("1.2.3.4/32");
}

/* RFC 8215's local-use prefix is not decoded: it stays IPv6. */
static void test_nat64_local(void **state)
{
	cf_u128 a;
	int fam;
	uint32_t v4;

	(void)state;
	assert_int_equal(cf_addr_parse("64:ff9b:1::c000:201", &a, &fam), 0);
	assert_true(cf_addr_nat64_local(a));
	assert_false(cf_addr_embedded_v4(a, &v4));
	assert_int_equal(cf_addr_parse("64:ff9b:1:ffff:ffff:ffff:ffff:ffff", &a,
				       &fam),
			 0);
	assert_true(cf_addr_nat64_local(a));
	assert_int_equal(cf_addr_parse("64:ff9b:2::", &a, &fam), 0);
	assert_false(cf_addr_nat64_local(a));
	assert_int_equal(cf_addr_parse("64:ff9b::c000:201", &a, &fam), 0);
	assert_false(cf_addr_nat64_local(a));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prefix_v4),
		cmocka_unit_test(test_prefix_v6),
		cmocka_unit_test(test_prefix_bad),
		cmocka_unit_test(test_prefix_host_bits),
		cmocka_unit_test(test_first_last),
		cmocka_unit_test(test_addr_parse),
		cmocka_unit_test(test_bytes),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_embedded_v4),
		cmocka_unit_test(test_embedded_near_misses),
		cmocka_unit_test(test_prefix_embedded),
		cmocka_unit_test(test_nat64_local),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
