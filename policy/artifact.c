// SPDX-License-Identifier: GPL-2.0-only
/*
 * artifact.c - compiled policies to and from files (format in artifact.h).
 *
 * The reader trusts nothing: a checksum catches damage in transit, and
 * every count, class and range is checked before the image builder sees
 * it, because an artifact is input from another machine.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "artifact.h"
#include "sha256.h"

/* Header field offsets (artifact.h). */
enum {
	H_MAGIC = 0,
	H_VERSION = 4,
	H_HDR_LEN = 8,
	H_FLAGS = 12,
	H_PAYLOAD = 16,
	H_CLASSES = 24,
	H_V4 = 28,
	H_V6 = 32,
	H_PATH = 36,
	H_TEXT = 40,
	H_MALFORMED = 44,
	H_RATE = 48,
	H_BURST = 52,
	H_DB_BUILT = 56,
	H_COMPILED = 64,
	H_DIGEST = 72,
};

#define CLASS_LEN 16
#define V4_LEN 8  /* 4 address bytes + class */
#define V6_LEN 20 /* 16 address bytes + class */

/* The header, decoded. */
struct hdr {
	uint32_t version, hdr_len, flags;
	uint64_t payload;
	uint32_t n_classes, n_v4, n_v6, path_len, text_len;
	uint32_t malformed, event_rate, event_burst;
	int64_t db_built_at, compiled_at;
	uint8_t digest[32];
};

static void put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static void put_u64(uint8_t *p, uint64_t v)
{
	put_u32(p, (uint32_t)v);
	put_u32(p + 4, (uint32_t)(v >> 32));
}

static uint32_t get_u32(const uint8_t *p)
{
	return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t get_u64(const uint8_t *p)
{
	return get_u32(p) | (uint64_t)get_u32(p + 4) << 32;
}

/* Addresses in network order: the low `bytes` bytes of a, last first. */
static void put_addr(uint8_t *p, cf_u128 a, unsigned bytes)
{
	for (unsigned i = 0; i < bytes; i++)
		p[bytes - 1 - i] = (uint8_t)(a >> (8 * i));
}

static cf_u128 get_addr(const uint8_t *p, unsigned bytes)
{
	cf_u128 a = 0;

	for (unsigned i = 0; i < bytes; i++)
		a = a << 8 | p[i];
	return a;
}

/* In 64 bits: 32-bit counts cannot overflow it. */
static uint64_t payload_len(const struct hdr *h)
{
	return (uint64_t)h->n_classes * CLASS_LEN + (uint64_t)h->n_v4 * V4_LEN +
	       (uint64_t)h->n_v6 * V6_LEN + h->path_len + h->text_len;
}

bool cf_artifact_sniff(const void *buf, size_t len)
{
	return buf && len >= 4 && !memcmp(buf, CF_ARTIFACT_MAGIC, 4);
}

/* ---- writing ---------------------------------------------------------- */

static void put_header(uint8_t *p, const struct hdr *h)
{
	memcpy(p + H_MAGIC, CF_ARTIFACT_MAGIC, 4);
	put_u32(p + H_VERSION, h->version);
	put_u32(p + H_HDR_LEN, h->hdr_len);
	put_u32(p + H_FLAGS, h->flags);
	put_u64(p + H_PAYLOAD, h->payload);
	put_u32(p + H_CLASSES, h->n_classes);
	put_u32(p + H_V4, h->n_v4);
	put_u32(p + H_V6, h->n_v6);
	put_u32(p + H_PATH, h->path_len);
	put_u32(p + H_TEXT, h->text_len);
	put_u32(p + H_MALFORMED, h->malformed);
	put_u32(p + H_RATE, h->event_rate);
	put_u32(p + H_BURST, h->event_burst);
	put_u64(p + H_DB_BUILT, (uint64_t)h->db_built_at);
	put_u64(p + H_COMPILED, (uint64_t)h->compiled_at);
	memcpy(p + H_DIGEST, h->digest, sizeof(h->digest));
}

static uint8_t *put_classes(uint8_t *p, const struct cf_compiled *c)
{
	for (size_t i = 0; i < c->n_classes; i++, p += CLASS_LEN) {
		const struct cf_class_meta *m = &c->classes[i];

		p[0] = m->kind;
		p[1] = m->verdict;
		p[2] = m->cc[0];
		p[3] = m->cc[1];
		put_u32(p + 4, m->asn);
		put_u32(p + 8, m->line);
		put_u32(p + 12, m->rule);
	}
	return p;
}

static uint8_t *put_ranges(uint8_t *p, const struct cf_crangelist *l,
			   unsigned bytes)
{
	for (size_t i = 0; i < l->n; i++, p += bytes + 4) {
		put_addr(p, l->v[i].first, bytes);
		put_u32(p + bytes, l->v[i].class);
	}
	return p;
}

/* Only firsts are stored: the ranges must tile the family exactly. */
static bool tiles(const struct cf_crangelist *l, int family)
{
	if (!l->n || l->v[0].first || l->v[l->n - 1].last != cf_af_max(family))
		return false;
	for (size_t i = 1; i < l->n; i++)
		if (l->v[i].first != l->v[i - 1].last + 1 ||
		    l->v[i].first > l->v[i].last)
			return false;
	return true;
}

static int fill_header(struct hdr *h, const struct cf_compiled *c,
		       size_t text_len, time_t compiled_at, struct cf_err *e)
{
	memset(h, 0, sizeof(*h));
	if (text_len > CF_ARTIFACT_TEXT_MAX)
		return cf_err_set(e, EINVAL, NULL, 0, 0,
				  "policy text over %u bytes", CF_ARTIFACT_TEXT_MAX);
	if (!tiles(&c->v4, CF_AF_V4) || !tiles(&c->v6, CF_AF_V6) ||
	    c->n_classes < CF_CLASS_FIXED || c->n_classes > CF_CLASS_MAX)
		return cf_err_set(e, EINVAL, NULL, 0, 0,
				  "compiled policy is incomplete: ranges must cover both families");
	h->version = CF_ARTIFACT_VERSION;
	h->hdr_len = CF_ARTIFACT_HDR_LEN;
	h->n_classes = (uint32_t)c->n_classes;
	h->n_v4 = (uint32_t)c->v4.n;
	h->n_v6 = (uint32_t)c->v6.n;
	h->path_len = (uint32_t)strnlen(c->policy_path,
					sizeof(c->policy_path) - 1);
	h->text_len = (uint32_t)text_len;
	h->malformed = c->malformed;
	h->event_rate = c->event_rate;
	h->event_burst = c->event_burst;
	h->db_built_at = c->db_built_at;
	h->compiled_at = compiled_at;
	memcpy(h->digest, c->digest, sizeof(h->digest));
	h->payload = payload_len(h);
	if (h->payload > CF_ARTIFACT_MAX - CF_ARTIFACT_HDR_LEN -
				 CF_ARTIFACT_SUM_LEN)
		return cf_err_set(e, E2BIG, NULL, 0, 0,
				  "compiled policy needs %llu bytes, more than the %u an artifact may have",
				  (unsigned long long)h->payload,
				  CF_ARTIFACT_MAX);
	return 0;
}

int cf_artifact_write(const struct cf_compiled *c, const char *text,
		      size_t text_len, time_t compiled_at, void **out,
		      size_t *out_len, struct cf_err *e)
{
	struct cf_sha256 s;
	uint8_t *buf, *p;
	struct hdr h = {};
	size_t total;
	int err;

	err = fill_header(&h, c, text_len, compiled_at, e);
	if (err)
		return err;
	total = CF_ARTIFACT_HDR_LEN + h.payload + CF_ARTIFACT_SUM_LEN;
	buf = calloc(1, total);
	if (!buf)
		return cf_err_set(e, ENOMEM, NULL, 0, 0, "out of memory");
	put_header(buf, &h);
	p = put_classes(buf + CF_ARTIFACT_HDR_LEN, c);
	p = put_ranges(p, &c->v4, 4);
	p = put_ranges(p, &c->v6, 16);
	memcpy(p, c->policy_path, h.path_len);
	p += h.path_len;
	if (text_len)
		memcpy(p, text, text_len);
	p += text_len;
	cf_sha256_init(&s);
	cf_sha256_update(&s, buf, (size_t)(p - buf));
	cf_sha256_final(&s, p);
	*out = buf;
	*out_len = total;
	return 0;
}

/* ---- reading ---------------------------------------------------------- */

static void get_header(const uint8_t *p, struct hdr *h)
{
	h->version = get_u32(p + H_VERSION);
	h->hdr_len = get_u32(p + H_HDR_LEN);
	h->flags = get_u32(p + H_FLAGS);
	h->payload = get_u64(p + H_PAYLOAD);
	h->n_classes = get_u32(p + H_CLASSES);
	h->n_v4 = get_u32(p + H_V4);
	h->n_v6 = get_u32(p + H_V6);
	h->path_len = get_u32(p + H_PATH);
	h->text_len = get_u32(p + H_TEXT);
	h->malformed = get_u32(p + H_MALFORMED);
	h->event_rate = get_u32(p + H_RATE);
	h->event_burst = get_u32(p + H_BURST);
	h->db_built_at = (int64_t)get_u64(p + H_DB_BUILT);
	h->compiled_at = (int64_t)get_u64(p + H_COMPILED);
	memcpy(h->digest, p + H_DIGEST, sizeof(h->digest));
}

/* Magic, version and lengths: is this a whole artifact we can read? */
static int check_frame(const uint8_t *p, size_t len, const char *name,
		       struct hdr *h, struct cf_err *e)
{
	uint64_t want;

	if (!cf_artifact_sniff(p, len))
		return cf_err_set(e, EINVAL, name, 0, 0,
				  "not a camfence artifact (no \"CFPA\" magic)");
	if (len < H_VERSION + 4)
		return cf_err_set(e, EINVAL, name, 0, 0,
				  "truncated: %zu bytes, no version", len);
	h->version = get_u32(p + H_VERSION);
	if (h->version != CF_ARTIFACT_VERSION)
		return cf_err_set(e, EINVAL, name, 0, 0,
				  "artifact format version %u; this camfence reads version %u",
				  h->version, CF_ARTIFACT_VERSION);
	if (len < CF_ARTIFACT_HDR_LEN + CF_ARTIFACT_SUM_LEN)
		return cf_err_set(e, EINVAL, name, 0, 0,
				  "truncated: %zu bytes, less than a header and checksum",
				  len);
	get_header(p, h);
	if (h->hdr_len != CF_ARTIFACT_HDR_LEN || h->flags)
		return cf_err_set(e, EINVAL, name, 0, 0,
				  "corrupt header (length %u, flags %#x)",
				  h->hdr_len, h->flags);
	if (h->payload > CF_ARTIFACT_MAX)
		return cf_err_set(e, EINVAL, name, 0, 0,
				  "corrupt header (payload of %llu bytes)",
				  (unsigned long long)h->payload);
	want = CF_ARTIFACT_HDR_LEN + h->payload + CF_ARTIFACT_SUM_LEN;
	if (want > len)
		return cf_err_set(e, EINVAL, name, 0, 0,
				  "truncated or corrupt: %zu bytes, the header says %llu",
				  len, (unsigned long long)want);
	if (want < len)
		return cf_err_set(e, EINVAL, name, 0, 0,
				  "corrupt: %zu bytes after the checksum",
				  (size_t)(len - want));
	return 0;
}

static int check_sum(const uint8_t *p, size_t len, const char *name,
		     struct cf_err *e)
{
	size_t body = len - CF_ARTIFACT_SUM_LEN;
	struct cf_sha256 s;
	uint8_t sum[32];

	cf_sha256_init(&s);
	cf_sha256_update(&s, p, body);
	cf_sha256_final(&s, sum);
	if (memcmp(sum, p + body, sizeof(sum)))
		return cf_err_set(e, EINVAL, name, 0, 0,
				  "checksum mismatch: the file is corrupt");
	return 0;
}

/* Counts and settings that the checksum cannot vouch for. */
static int check_counts(const struct hdr *h, const char *name,
			struct cf_err *e)
{
	if (payload_len(h) != h->payload)
		return cf_err_set(e, EINVAL, name, 0, 0,
				  "corrupt: the sizes in the header do not add up");
	if (h->n_classes < CF_CLASS_FIXED || h->n_classes > CF_CLASS_MAX)
		return cf_err_set(e, EINVAL, name, 0, 0,
				  "corrupt: %u classes (from %u to %u)", h->n_classes,
				  CF_CLASS_FIXED, CF_CLASS_MAX);
	if (!h->n_v4 || !h->n_v6)
		return cf_err_set(e, EINVAL, name, 0, 0,
				  "corrupt: no ranges for a family");
	if (h->path_len >= sizeof(((struct cf_compiled *)0)->policy_path) ||
	    h->text_len > CF_ARTIFACT_TEXT_MAX)
		return cf_err_set(e, EINVAL, name, 0, 0,
				  "corrupt: policy path of %u or text of %u bytes",
				  h->path_len, h->text_len);
	if (h->malformed != CF_VERDICT_PASS && h->malformed != CF_VERDICT_DROP)
		return cf_err_set(e, EINVAL, name, 0, 0,
				  "corrupt: malformed verdict %u", h->malformed);
	return 0;
}

static bool cc_valid(uint8_t ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
}

static bool class_valid(const struct cf_class_meta *m, size_t i)
{
	if (m->verdict > CF_VERDICT_MONITOR)
		return false;
	if (i == CF_CLASS_DEFAULT || i == CF_CLASS_LOCAL)
		return m->kind == i; /* CF_KIND_DEFAULT, CF_KIND_LOCAL */
	if (m->kind < CF_KIND_COUNTRY || m->kind > CF_KIND_NET)
		return false;
	return m->kind != CF_KIND_COUNTRY || (cc_valid(m->cc[0]) &&
					      cc_valid(m->cc[1]));
}

static int get_classes(const uint8_t **pp, struct cf_compiled *c,
		       uint32_t n, const char *name, struct cf_err *e)
{
	const uint8_t *p = *pp;

	c->classes = calloc(n, sizeof(*c->classes));
	if (!c->classes)
		return cf_err_set(e, ENOMEM, NULL, 0, 0, "out of memory");
	c->n_classes = n;
	for (uint32_t i = 0; i < n; i++, p += CLASS_LEN) {
		struct cf_class_meta *m = &c->classes[i];

		*m = (struct cf_class_meta){
			.kind = p[0], .verdict = p[1], .cc = { p[2], p[3] },
			.asn = get_u32(p + 4), .line = get_u32(p + 8),
			.rule = get_u32(p + 12),
		};
		if (!class_valid(m, i))
			return cf_err_set(e, EINVAL, name, 0, 0,
					  "corrupt: class %u (kind %u, verdict %u)",
					  i, m->kind, m->verdict);
	}
	*pp = p;
	return 0;
}

/* Firsts from 0 up, strictly rising; each range ends before the next. */
static int get_ranges(const uint8_t **pp, struct cf_crangelist *l,
		      uint32_t n, int family, uint32_t n_classes,
		      const char *name, struct cf_err *e)
{
	unsigned bytes = family == CF_AF_V4 ? 4 : 16;
	const uint8_t *p = *pp;
	struct cf_crange *r;

	l->v = calloc(n, sizeof(*l->v));
	if (!l->v)
		return cf_err_set(e, ENOMEM, NULL, 0, 0, "out of memory");
	l->n = l->cap = n;
	for (uint32_t i = 0; i < n; i++, p += bytes + 4) {
		r = &l->v[i];
		r->first = get_addr(p, bytes);
		r->class = get_u32(p + bytes);
		if (r->class >= n_classes || (i && r->first <= r[-1].first) ||
		    (!i && r->first))
			return cf_err_set(e, EINVAL, name, 0, 0,
					  "corrupt: IPv%d range %u (class %u)",
					  family, i, r->class);
		/* the compiler merges these; the digest assumes it */
		if (i && r->class == r[-1].class)
			return cf_err_set(e, EINVAL, name, 0, 0,
					  "corrupt: IPv%d range %u has the class of the one before",
					  family, i);
		if (i)
			r[-1].last = r->first - 1;
	}
	l->v[n - 1].last = cf_af_max(family);
	*pp = p;
	return 0;
}

/*
 * The digest is what status, metrics and the daemon compare, so it is
 * computed from the tables decoded, never taken from the header: the
 * trailer is a checksum anyone can recompute, not a seal.  A stored
 * digest that differs means the file was not written by `camfence
 * compile` from these tables (forged, or edited and resealed): refused,
 * since pushing it would install something other than what it claims
 * and what the operator checked.
 */
static int check_digest(struct cf_compiled *c, const struct hdr *h,
			const char *name, struct cf_err *e)
{
	char want[65], got[65];

	cf_compiled_digest(c, c->digest);
	if (!memcmp(c->digest, h->digest, sizeof(c->digest)))
		return 0;
	return cf_err_set(e, EINVAL, name, 0, 0,
			  "digest mismatch: the header says %.16s, the tables it holds are %.16s (a forged or altered artifact)",
			  cf_sha256_hex(h->digest, want),
			  cf_sha256_hex(c->digest, got));
}

static int decode(const uint8_t *p, const struct hdr *h, const char *name,
		  struct cf_compiled *c, char **text, struct cf_err *e)
{
	int err;

	c->malformed = (enum cf_verdict)h->malformed;
	c->event_rate = h->event_rate;
	c->event_burst = h->event_burst;
	c->db_built_at = (time_t)h->db_built_at;
	p += CF_ARTIFACT_HDR_LEN;
	err = get_classes(&p, c, h->n_classes, name, e);
	err = err ?: get_ranges(&p, &c->v4, h->n_v4, CF_AF_V4, h->n_classes,
				name, e);
	err = err ?: get_ranges(&p, &c->v6, h->n_v6, CF_AF_V6, h->n_classes,
				name, e);
	err = err ?: check_digest(c, h, name, e);
	if (err)
		return err;
	memcpy(c->policy_path, p, h->path_len);
	c->policy_path[h->path_len] = '\0';
	p += h->path_len;
	*text = malloc((size_t)h->text_len + 1);
	if (!*text)
		return cf_err_set(e, ENOMEM, NULL, 0, 0, "out of memory");
	memcpy(*text, p, h->text_len);
	(*text)[h->text_len] = '\0';
	return 0;
}

int cf_artifact_read(const void *buf, size_t len, const char *name,
		     struct cf_compiled **c, char **text, size_t *text_len,
		     struct cf_artifact_info *info, struct cf_err *e)
{
	struct cf_compiled *nc;
	char *nt = NULL;
	struct hdr h = {};
	int err;

	err = check_frame(buf, len, name, &h, e);
	err = err ?: check_sum(buf, len, name, e);
	err = err ?: check_counts(&h, name, e);
	if (err)
		return err;
	nc = calloc(1, sizeof(*nc));
	if (!nc)
		return cf_err_set(e, ENOMEM, NULL, 0, 0, "out of memory");
	err = decode(buf, &h, name, nc, &nt, e);
	if (err) {
		cf_compiled_free(nc);
		free(nt);
		return err;
	}
	if (info)
		*info = (struct cf_artifact_info){ .version = h.version,
						   .compiled_at = h.compiled_at,
						   .size = len };
	*c = nc;
	*text = nt;
	*text_len = h.text_len;
	return 0;
}
