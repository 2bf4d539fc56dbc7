// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_sha256.c - the SHA-256 behind policy digests and artifact seals:
 * FIPS 180-4's examples and a million 'a's, then the x86 SHA-extension
 * blocks against the portable ones over random lengths and every way of
 * splitting the input into updates.  A wrong digest would make every
 * gateway report a different policy than the one a fleet pushed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sha256.h"

static void hex_of(const void *data, size_t len, char out[65])
{
	struct cf_sha256 s;
	uint8_t d[32];

	cf_sha256_init(&s);
	cf_sha256_update(&s, data, len);
	cf_sha256_final(&s, d);
	cf_sha256_hex(d, out);
}

static void check_vectors(void)
{
	static const struct {
		const char *in, *out;
	} v[] = {
		{ "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
		{ "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
		{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
	};
	char got[65], *a;

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		hex_of(v[i].in, strlen(v[i].in), got);
		assert_string_equal(got, v[i].out);
	}
	a = malloc(1000000);
	assert_non_null(a);
	memset(a, 'a', 1000000);
	hex_of(a, 1000000, got);
	assert_string_equal(got, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	free(a);
}

static void test_portable(void **state)
{
	(void)state;
	cf_sha256_use_x86(false);
	check_vectors();
}

static void test_x86(void **state)
{
	(void)state;
	if (!cf_sha256_x86_usable())
		skip();
	cf_sha256_use_x86(true);
	check_vectors();
}

/* The input fed in pieces of random sizes, as digest and artifact code do. */
static void digest_split(const uint8_t *p, size_t len, unsigned int seed,
			 uint8_t out[32])
{
	struct cf_sha256 s;

	cf_sha256_init(&s);
	while (len) {
		size_t n = (size_t)(rand_r(&seed) % 200);

		n = n > len ? len : n;
		cf_sha256_update(&s, p, n);
		p += n, len -= n;
	}
	cf_sha256_final(&s, out);
}

static void test_x86_equals_portable(void **state)
{
	unsigned int seed = 2026;
	uint8_t buf[5000], a[32], b[32];

	(void)state;
	if (!cf_sha256_x86_usable())
		skip();
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)rand_r(&seed);
	for (unsigned int t = 0; t < 2000; t++) {
		size_t len = (size_t)rand_r(&seed) % sizeof(buf);

		cf_sha256_use_x86(false);
		digest_split(buf, len, t, a);
		cf_sha256_use_x86(true);
		digest_split(buf, len, t * 7 + 1, b);
		assert_memory_equal(a, b, 32);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_portable),
		cmocka_unit_test(test_x86),
		cmocka_unit_test(test_x86_equals_portable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
