// SPDX-License-Identifier: GPL-2.0-only
/*
 * sha256_x86.c - SHA-256 blocks with the x86 SHA extensions.
 *
 * A push hashes the compiled ranges (~1.2 MB for location.db) and a fleet
 * artifact is sealed and checked whole; in portable C that is ~5 ms of a
 * 50 ms budget, with SHA-NI a tenth of it.  sha256.c asks at run time
 * whether the CPU has them.
 *
 * The extensions keep the eight state words as ABEF and CDGH in two
 * registers; sha256rnds2 does two rounds, sha256msg1/msg2 the message
 * schedule four words at a time.
 */
#include "sha256.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <immintrin.h>

bool cf_sha256_x86_usable(void)
{
	unsigned int a, b, c, d;

	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_SSSE3) ||
	    !(c & bit_SSE4_1))
		return false;
	return __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & bit_SHA);
}

#define SHA_TARGET __attribute__((target("sha,ssse3,sse4.1")))

/* Four schedule words of group g >= 4 from the four before them. */
static inline SHA_TARGET __m128i schedule(__m128i m[4], unsigned int g)
{
	__m128i t = _mm_sha256msg1_epu32(m[g & 3], m[(g + 1) & 3]);

	t = _mm_add_epi32(t, _mm_alignr_epi8(m[(g + 3) & 3], m[(g + 2) & 3], 4));
	return _mm_sha256msg2_epu32(t, m[(g + 3) & 3]);
}

static SHA_TARGET void block(__m128i *abef, __m128i *cdgh, const uint8_t *p,
			     const uint32_t k[64])
{
	const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bull,
					     0x0405060700010203ull);
	__m128i s0 = *abef, s1 = *cdgh, m[4], w;
	unsigned int g;

	for (g = 0; g < 16; g++) {
		if (g < 4)
			m[g] = _mm_shuffle_epi8(
				_mm_loadu_si128((const __m128i *)(p + 16 * g)),
				bswap);
		else
			m[g & 3] = schedule(m, g);
		w = _mm_add_epi32(m[g & 3],
				  _mm_loadu_si128((const __m128i *)&k[4 * g]));
		s1 = _mm_sha256rnds2_epu32(s1, s0, w);
		s0 = _mm_sha256rnds2_epu32(s0, s1, _mm_shuffle_epi32(w, 0x0e));
	}
	*abef = _mm_add_epi32(*abef, s0);
	*cdgh = _mm_add_epi32(*cdgh, s1);
}

SHA_TARGET void cf_sha256_x86_blocks(uint32_t h[8], const uint8_t *p,
				     size_t n, const uint32_t k[64])
{
	__m128i dcba = _mm_loadu_si128((const __m128i *)&h[0]);
	__m128i hgfe = _mm_loadu_si128((const __m128i *)&h[4]);
	__m128i cdab = _mm_shuffle_epi32(dcba, 0xb1);
	__m128i efgh = _mm_shuffle_epi32(hgfe, 0x1b);
	__m128i abef = _mm_alignr_epi8(cdab, efgh, 8);
	__m128i cdgh = _mm_blend_epi16(efgh, cdab, 0xf0);
	__m128i feba, dchg;

	for (; n; n--, p += 64)
		block(&abef, &cdgh, p, k);

	feba = _mm_shuffle_epi32(abef, 0x1b);
	dchg = _mm_shuffle_epi32(cdgh, 0xb1);
	_mm_storeu_si128((__m128i *)&h[0], _mm_blend_epi16(feba, dchg, 0xf0));
	_mm_storeu_si128((__m128i *)&h[4], _mm_alignr_epi8(dchg, feba, 8));
}
#else
bool cf_sha256_x86_usable(void)
{
	return false;
}

void cf_sha256_x86_blocks(uint32_t h[8], const uint8_t *p, size_t n,
			  const uint32_t k[64])
{
	(void)h, (void)p, (void)n, (void)k;
}
#endif
