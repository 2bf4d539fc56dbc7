// SPDX-License-Identifier: GPL-2.0-only
/*
 * text.c - text from files, databases and the network, made safe to show
 * (text.h).
 */
#include <stdio.h>
#include <string.h>

#include "text.h"

/* Bytes 2-4 of a sequence: 10xxxxxx each. */
static bool continuation(const unsigned char *s, size_t k)
{
	for (size_t i = 1; i < k; i++)
		if ((s[i] & 0xc0) != 0x80)
			return false;
	return true;
}

size_t cf_utf8_char(const char *str, size_t n, uint32_t *cp)
{
	const unsigned char *s = (const unsigned char *)str;
	static const uint32_t min[5] = { 0, 0, 0x80, 0x800, 0x10000 };
	uint32_t c;
	size_t k;

	if (!n)
		return 0;
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		k = 2;
		c = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		k = 3;
		c = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		k = 4;
		c = s[0] & 0x07;
	} else {
		return 0; /* a continuation byte, 0xc0, 0xc1 or 0xf5-0xff */
	}
	if (k > n || !continuation(s, k))
		return 0;
	for (size_t i = 1; i < k; i++)
		c = c << 6 | (s[i] & 0x3f);
	/* overlong forms would let a control hide from the check below */
	if (c < min[k] || (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff)
		return 0;
	*cp = c;
	return k;
}

/* Length of the character at s that may be shown as is, else 0. */
static size_t showable(const char *s, size_t n)
{
	uint32_t cp;
	size_t k = cf_utf8_char(s, n, &cp);

	return k && !cf_text_control(cp) ? k : 0;
}

char *cf_text_escape(const char *s, char *buf, size_t len)
{
	size_t n = s ? strlen(s) : 0, i = 0, o = 0, k;

	if (!len)
		return buf;
	while (i < n) {
		k = showable(s + i, n - i);
		if (k) {
			if (o + k >= len)
				break;
			memcpy(buf + o, s + i, k);
			o += k;
			i += k;
			continue;
		}
		/* a control: every byte of its sequence; else the one byte */
		k = cf_utf8_char(s + i, n - i, &(uint32_t){ 0 });
		for (k = k ? k : 1; k && o + 4 < len; k--, i++, o += 4)
			snprintf(buf + o, 5, "\\x%02x", (unsigned char)s[i]);
		if (k)
			break;
	}
	buf[o] = '\0';
	return buf;
}

bool cf_text_clean(const char *s)
{
	size_t n = s ? strlen(s) : 0, i = 0, k;

	while (i < n) {
		k = showable(s + i, n - i);
		if (!k)
			return false;
		i += k;
	}
	return true;
}
