// SPDX-License-Identifier: GPL-2.0-only
/*
 * parse.c - the operator's policy file, read into a struct cf_policy.
 *
 * One pass over the text, line by line.  Each line is copied into a buffer,
 * split into blank-separated tokens (a '#' anywhere ends the line), and
 * handed to the handler of its directive.  Every error names the file,
 * line and the 1-based byte column of the token at fault; the first error
 * stops the parse and nothing of the half-built policy survives.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "policy.h"

/* Limits that keep a runaway or wrong file from eating the gateway. */
#define CF_LINE_MAX (64 * 1024)
#define CF_POLICY_MAX (16 * 1024 * 1024)
#define CF_EVENT_RATE_MAX 1000000
#define CF_EVENT_BURST_MAX (2 * CF_EVENT_RATE_MAX)

#define CF_DB_DEFAULT_LIVE "/var/lib/location/database.db"
#define CF_DB_DEFAULT_PKG "/usr/share/libloc-location/location.db"

struct tok {
	char *s; /* NUL-terminated, inside parser.buf */
	unsigned col; /* 1-based column of the first byte */
	unsigned end; /* column of the last byte */
};

/* A country, ASN or prefix already listed, for duplicate detection. */
struct seen {
	cf_u128 v;
	unsigned line; /* 0: free slot */
	unsigned col;
	uint8_t kind; /* enum cf_match */
	uint8_t family;
	uint8_t len;
};

struct parser {
	struct cf_policy *pol;
	struct cf_err *e;
	const char *file; /* the name errors give */
	char *dir; /* database paths are relative to it; NULL: cwd */
	unsigned line;
	char *buf; /* the current line */
	struct tok *tok;
	size_t n_tok, cap_tok;
	size_t cap_rules, cap_dbs;
	unsigned default_line, malformed_line, rate_line;
	struct seen *seen; /* open addressing, power of two */
	size_t n_seen, cap_seen;
	char show[2][96];
	unsigned show_next;
};

static int perr(struct parser *ps, unsigned col, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int perr(struct parser *ps, unsigned col, const char *fmt, ...)
{
	char msg[sizeof(ps->e->msg)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return cf_err_set(ps->e, EINVAL, ps->file, ps->line, col, "%s", msg);
}

static int enomem(struct parser *ps)
{
	return cf_err_set(ps->e, ENOMEM, ps->file, 0, 0, "out of memory");
}

/*
 * A token as it may appear in a message: shortened, and with bytes a
 * terminal would act on escaped.  Two buffers, so a message can quote two.
 */
static const char *show(struct parser *ps, const char *s)
{
	char *out = ps->show[ps->show_next++ % 2];
	size_t n = 0;

	/* Room left for one escape (4) and "..." with its NUL (4). */
	for (; *s && n + 8 <= sizeof(ps->show[0]); s++) {
		unsigned char c = *s;

		if (isprint(c))
			out[n++] = c;
		else
			n += sprintf(out + n, "\\x%02x", c);
	}
	strcpy(out + n, *s ? "..." : "");
	return out;
}

/* The column just past the last token, where a missing one belongs. */
static unsigned col_after(const struct parser *ps)
{
	return ps->tok[ps->n_tok - 1].end + 1;
}

/* Grow *v (of *cap elements of size sz) to hold at least n. */
static int grow(void *v, size_t *cap, size_t n, size_t sz)
{
	size_t ncap = *cap ? *cap : 8;
	void *p;

	if (n <= *cap)
		return 0;
	while (ncap < n)
		ncap *= 2;
	p = reallocarray(*(void **)v, ncap, sz);
	if (!p)
		return -ENOMEM;
	*(void **)v = p;
	*cap = ncap;
	return 0;
}

/* ---- numbers and items ------------------------------------------------ */

/* Decimal digits only (no sign, no blanks); -ERANGE above max. */
static int parse_u32(const char *s, uint32_t max, uint32_t *out)
{
	uint64_t v = 0;

	if (!*s)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		v = v * 10 + (*s - '0');
		if (v > max) {
			/* Finish the scan: "99999x" is not a number either. */
			while (*s >= '0' && *s <= '9')
				s++;
			return *s ? -EINVAL : -ERANGE;
		}
	}
	*out = (uint32_t)v;
	return 0;
}

static int parse_country(struct parser *ps, const struct tok *t,
			 struct cf_item *it)
{
	const char *s = t->s;

	/* Alphanumeric: libloc's A1-A3 flags are written like codes. */
	if (strlen(s) != 2 || !isalnum((unsigned char)s[0]) ||
	    !isalnum((unsigned char)s[1]))
		return perr(
			ps, t->col,
			"'%s' is not a country code; expected two letters (ISO 3166-1 alpha-2)",
			show(ps, s));
	it->cc[0] = toupper((unsigned char)s[0]);
	it->cc[1] = toupper((unsigned char)s[1]);
	it->cc[2] = '\0';
	if (!cf_country_valid(it->cc))
		return perr(ps, t->col, "unknown country code '%s'%s", s,
			    strcmp(it->cc, "UK") ?
				    "" :
				    " (the United Kingdom is GB)");
	return 0;
}

static int parse_asn(struct parser *ps, const struct tok *t, struct cf_item *it)
{
	const char *s = t->s;
	int err;

	if (!strncasecmp(s, "AS", 2))
		s += 2;
	err = parse_u32(s, UINT32_MAX, &it->asn);
	if (err == -ERANGE)
		return perr(ps, t->col,
			    "ASN '%s' is out of range (1-4294967295)",
			    show(ps, t->s));
	if (err)
		return perr(ps, t->col, "ASN '%s' is not a number",
			    show(ps, t->s));
	if (!it->asn)
		return perr(ps, t->col, "ASN 0 is reserved");
	return 0;
}

/*
 * The datapath judges an address in an embedded range (addr.h) by the IPv4
 * address it carries, so a prefix wholly inside one never matches: say
 * what to write instead.  A prefix around one (2000::/3) still matches
 * the rest of its addresses.
 */
static int refuse_embedded(struct parser *ps, const struct tok *t,
			   const struct cf_prefix *p)
{
	const struct cf_embedded *em;
	char a[CF_ADDR_STRLEN];
	struct cf_prefix v4;

	em = cf_prefix_embedded_v4(p, &v4);
	if (!em)
		return 0;
	return perr(
		ps, t->col,
		"%s can never match: %s addresses (%s) are judged as the IPv4 address they carry; write `net %s/%u`",
		show(ps, t->s), em->name, em->text,
		cf_addr_format(v4.addr, CF_AF_V4, a), v4.len);
}

static int parse_net(struct parser *ps, const struct tok *t, struct cf_item *it)
{
	struct cf_prefix *p = &it->net;
	char a[CF_ADDR_STRLEN];
	const char *why = "invalid";

	memset(p, 0, sizeof(*p));
	if (!cf_prefix_parse(t->s, p, &why))
		return refuse_embedded(ps, t, p);
	/* addr.c fills in the cleared prefix when only host bits are set. */
	if (p->family)
		return perr(ps, t->col,
			    "host bits set in %s; did you mean %s/%u?",
			    show(ps, t->s),
			    cf_addr_format(p->addr, p->family, a), p->len);
	return perr(ps, t->col, "invalid prefix '%s': %s", show(ps, t->s), why);
}

/* ---- duplicate detection ---------------------------------------------- */

static size_t seen_hash(const struct seen *k)
{
	uint64_t h = (uint64_t)k->v;

	h ^= (uint64_t)(k->v >> 64) * 0x9e3779b97f4a7c15ull;
	h ^= ((uint64_t)k->kind << 16 | k->family << 8 | k->len) *
	     0xc2b2ae3d27d4eb4full;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return (size_t)h;
}

static bool seen_eq(const struct seen *a, const struct seen *b)
{
	return a->v == b->v && a->kind == b->kind && a->family == b->family &&
	       a->len == b->len;
}

/* The slot holding k, or the free slot where it belongs. */
static struct seen *seen_slot(struct seen *tab, size_t cap,
			      const struct seen *k)
{
	size_t i = seen_hash(k) & (cap - 1);

	while (tab[i].line && !seen_eq(&tab[i], k))
		i = (i + 1) & (cap - 1);
	return &tab[i];
}

static int seen_rehash(struct parser *ps)
{
	size_t cap = ps->cap_seen ? ps->cap_seen * 2 : 256, i;
	struct seen *tab = calloc(cap, sizeof(*tab));

	if (!tab)
		return -ENOMEM;
	for (i = 0; i < ps->cap_seen; i++)
		if (ps->seen[i].line)
			*seen_slot(tab, cap, &ps->seen[i]) = ps->seen[i];
	free(ps->seen);
	ps->seen = tab;
	ps->cap_seen = cap;
	return 0;
}

/*
 * Remember k; if it was listed before, return the earlier entry instead.
 * Load stays at most one half, so probes are short and a free slot exists.
 */
static int seen_add(struct parser *ps, const struct seen *k,
		    const struct seen **prev)
{
	struct seen *slot;

	*prev = NULL;
	if (2 * (ps->n_seen + 1) > ps->cap_seen && seen_rehash(ps))
		return -ENOMEM;
	slot = seen_slot(ps->seen, ps->cap_seen, k);
	if (slot->line) {
		*prev = slot;
		return 0;
	}
	*slot = *k;
	ps->n_seen++;
	return 0;
}

/* "country CN", "ASN 64500", "net 192.0.2.0/24" for a message. */
static const char *item_str(enum cf_match m, const struct cf_item *it,
			    char *buf, size_t len)
{
	char a[CF_ADDR_STRLEN];

	if (m == CF_MATCH_COUNTRY)
		snprintf(buf, len, "country %s", it->cc);
	else if (m == CF_MATCH_ASN)
		snprintf(buf, len, "ASN %u", it->asn);
	else
		snprintf(buf, len, "net %s/%u",
			 cf_addr_format(it->net.addr, it->net.family, a),
			 it->net.len);
	return buf;
}

static int check_dup(struct parser *ps, enum cf_match m,
		     const struct cf_item *it)
{
	struct seen k = { .line = ps->line, .col = it->col, .kind = m };
	const struct seen *prev;
	char what[96];

	if (m == CF_MATCH_COUNTRY) {
		k.v = (unsigned)it->cc[0] << 8 | (unsigned)it->cc[1];
	} else if (m == CF_MATCH_ASN) {
		k.v = it->asn;
	} else {
		k.v = it->net.addr;
		k.family = it->net.family;
		k.len = it->net.len;
	}
	if (seen_add(ps, &k, &prev))
		return enomem(ps);
	if (!prev)
		return 0;
	item_str(m, it, what, sizeof(what));
	if (prev->line == ps->line)
		return perr(ps, it->col,
			    "%s appears twice in this rule (also at column %u)",
			    what, prev->col);
	return perr(ps, it->col, "%s already in the rule at line %u", what,
		    prev->line);
}

/* ---- directives ------------------------------------------------------- */

static const char *const match_names[] = {
	[CF_MATCH_COUNTRY] = "country",
	[CF_MATCH_ASN] = "asn",
	[CF_MATCH_NET] = "net",
};

static int (*const item_parsers[])(struct parser *, const struct tok *,
				   struct cf_item *) = {
	[CF_MATCH_COUNTRY] = parse_country,
	[CF_MATCH_ASN] = parse_asn,
	[CF_MATCH_NET] = parse_net,
};

/* Index of word in names[n], case-insensitive, or -1. */
static int lookup_word(const char *word, const char *const *names, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (names[i] && !strcasecmp(word, names[i]))
			return i;
	return -1;
}

static int rule_match(struct parser *ps, const char *act, enum cf_match *m)
{
	int i;

	if (ps->n_tok < 2)
		return perr(ps, col_after(ps),
			    "expected country, asn or net after '%s'", act);
	i = lookup_word(ps->tok[1].s, match_names, 3);
	if (i < 0)
		return perr(ps, ps->tok[1].col,
			    "expected country, asn or net after '%s', not '%s'",
			    act, show(ps, ps->tok[1].s));
	if (ps->n_tok < 3)
		return perr(ps, col_after(ps), "missing items after '%s %s'",
			    act, match_names[i]);
	*m = i;
	return 0;
}

static int rule_items(struct parser *ps, struct cf_rule *r)
{
	size_t i;
	int err;

	r->n_items = ps->n_tok - 2;
	r->items = calloc(r->n_items, sizeof(*r->items));
	if (!r->items)
		return enomem(ps);
	for (i = 0; i < r->n_items; i++) {
		const struct tok *t = &ps->tok[i + 2];

		r->items[i].col = t->col;
		err = item_parsers[r->match](ps, t, &r->items[i]);
		if (!err)
			err = check_dup(ps, r->match, &r->items[i]);
		if (err)
			return err;
	}
	return 0;
}

/* allow|deny|monitor country|asn|net ITEM... */
static int do_rule(struct parser *ps, int action)
{
	struct cf_policy *pol = ps->pol;
	struct cf_rule r = { .action = action, .line = ps->line };
	int err;

	err = rule_match(ps, cf_action_str(action), &r.match);
	if (err)
		return err;
	err = rule_items(ps, &r);
	if (!err &&
	    grow(&pol->rules, &ps->cap_rules, pol->n_rules + 1, sizeof(r)))
		err = enomem(ps);
	if (err) {
		free(r.items);
		return err;
	}
	pol->rules[pol->n_rules++] = r;
	return 0;
}

/* A directive allowed once: complain at the second. */
static int once(struct parser *ps, unsigned *first, const char *name)
{
	if (*first)
		return perr(ps, ps->tok[0].col, "'%s' already set at line %u",
			    name, *first);
	*first = ps->line;
	return 0;
}

/* "NAME a|b": which of the two words, as 0 or 1. */
static int one_of_two(struct parser *ps, const char *name,
		      const char *const words[2], int *which)
{
	if (ps->n_tok < 2)
		return perr(ps, col_after(ps), "expected %s or %s after '%s'",
			    words[0], words[1], name);
	*which = lookup_word(ps->tok[1].s, words, 2);
	if (*which < 0)
		return perr(ps, ps->tok[1].col,
			    "expected %s or %s after '%s', not '%s'", words[0],
			    words[1], name, show(ps, ps->tok[1].s));
	if (ps->n_tok > 2)
		return perr(ps, ps->tok[2].col, "unexpected '%s' after '%s %s'",
			    show(ps, ps->tok[2].s), name, words[*which]);
	return 0;
}

static int do_default(struct parser *ps, int unused)
{
	static const char *const words[2] = { "allow", "deny" };
	int which, err;

	(void)unused;
	err = once(ps, &ps->default_line, "default");
	if (!err)
		err = one_of_two(ps, "default", words, &which);
	if (!err)
		ps->pol->default_action = which ? CF_DENY : CF_ALLOW;
	return err;
}

static int do_malformed(struct parser *ps, int unused)
{
	static const char *const words[2] = { "pass", "drop" };
	int which, err;

	(void)unused;
	err = once(ps, &ps->malformed_line, "malformed");
	if (!err)
		err = one_of_two(ps, "malformed", words, &which);
	if (!err)
		ps->pol->malformed = which ? CF_DENY : CF_ALLOW;
	return err;
}

static int event_number(struct parser *ps, const struct tok *t,
			const char *what, uint32_t max, uint32_t *v)
{
	int err = parse_u32(t->s, max, v);

	if (err == -ERANGE)
		return perr(ps, t->col, "%s '%s' is out of range (0-%u)", what,
			    show(ps, t->s), max);
	if (err)
		return perr(ps, t->col, "%s '%s' is not a number", what,
			    show(ps, t->s));
	return 0;
}

/* event-rate N [BURST] */
static int do_event_rate(struct parser *ps, int unused)
{
	uint32_t rate, burst;
	int err;

	(void)unused;
	err = once(ps, &ps->rate_line, "event-rate");
	if (err)
		return err;
	if (ps->n_tok < 2)
		return perr(ps, col_after(ps),
			    "expected events per second after 'event-rate'");
	err = event_number(ps, &ps->tok[1], "event rate", CF_EVENT_RATE_MAX,
			   &rate);
	if (err)
		return err;
	burst = 2 * rate;
	if (ps->n_tok > 2) {
		err = event_number(ps, &ps->tok[2], "event burst",
				   CF_EVENT_BURST_MAX, &burst);
		if (err)
			return err;
	}
	/* A burst below the rate would quietly cap the rate itself. */
	if (rate && burst < rate)
		return perr(
			ps, ps->tok[2].col,
			"event burst %u is below the rate %u; expected at least %u",
			burst, rate, rate);
	if (ps->n_tok > 3)
		return perr(ps, ps->tok[3].col,
			    "unexpected '%s' after 'event-rate RATE BURST'",
			    show(ps, ps->tok[3].s));
	ps->pol->event_rate = rate;
	ps->pol->event_burst = burst;
	return 0;
}

static const char *const db_formats[] = {
	[CF_DB_LIBLOC] = "libloc",
	[CF_DB_MMDB] = "mmdb",
	[CF_DB_CSV] = "csv",
};
#define N_DB_FORMATS ((int)(sizeof(db_formats) / sizeof(db_formats[0])))

/* PATH as the reader should open it: relative to the policy's directory. */
static char *db_path(struct parser *ps, const char *path)
{
	char *s;

	if (path[0] == '/' || !ps->dir)
		return strdup(path);
	if (asprintf(&s, "%s%s", ps->dir, path) < 0)
		return NULL;
	return s;
}

/* database [libloc|mmdb|csv] PATH: which token is the path, and format. */
static int db_args(struct parser *ps, const struct tok **path,
		   enum cf_db_format *fmt)
{
	int f;

	if (ps->n_tok < 2)
		return perr(ps, col_after(ps), "missing path after 'database'");
	f = lookup_word(ps->tok[1].s, db_formats, N_DB_FORMATS);
	if (ps->n_tok == 2 && f > 0)
		return perr(ps, col_after(ps),
			    "missing path after 'database %s'", db_formats[f]);
	if (ps->n_tok > 3)
		return perr(
			ps, ps->tok[3].col,
			"unexpected '%s' after the database path (paths cannot contain blanks)",
			show(ps, ps->tok[3].s));
	if (ps->n_tok == 3 && f <= 0)
		return perr(
			ps, ps->tok[1].col,
			"unknown database format '%s'; expected libloc, mmdb or csv",
			show(ps, ps->tok[1].s));
	*fmt = ps->n_tok == 3 ? (enum cf_db_format)f : CF_DB_AUTO;
	*path = &ps->tok[ps->n_tok - 1];
	return 0;
}

static int do_database(struct parser *ps, int unused)
{
	struct cf_policy *pol = ps->pol;
	struct cf_db_ref ref = { .line = ps->line };
	const struct tok *path = NULL;
	int err;

	(void)unused;
	err = db_args(ps, &path, &ref.format);
	if (err)
		return err;
	ref.col = path->col;
	if (grow(&pol->dbs, &ps->cap_dbs, pol->n_dbs + 1, sizeof(ref)))
		return enomem(ps);
	/* "database default": the embedded default, resolved now so that a
	 * refreshed /var/lib/location/database.db is found when it appears. */
	if (ref.format == CF_DB_AUTO && !strcasecmp(path->s, "default")) {
		ref.path = strdup(cf_default_database());
	} else {
		ref.path = db_path(ps, path->s);
	}
	if (!ref.path)
		return enomem(ps);
	pol->dbs[pol->n_dbs++] = ref;
	return 0;
}

static const struct directive {
	const char *name;
	int (*fn)(struct parser *ps, int arg);
	int arg;
} directives[] = {
	/* clang-format off */
	{ "allow",	do_rule,	CF_ALLOW },
	{ "deny",	do_rule,	CF_DENY },
	{ "monitor",	do_rule,	CF_MONITOR },
	{ "database",	do_database,	0 },
	{ "default",	do_default,	0 },
	{ "malformed",	do_malformed,	0 },
	{ "event-rate",	do_event_rate,	0 },
	/* clang-format on */
};

static int dispatch(struct parser *ps)
{
	const struct tok *t = &ps->tok[0];
	size_t i;

	for (i = 0; i < sizeof(directives) / sizeof(directives[0]); i++)
		if (!strcasecmp(t->s, directives[i].name))
			return directives[i].fn(ps, directives[i].arg);
	return perr(
		ps, t->col,
		"unknown directive '%s'; expected allow, deny, monitor, database, default, malformed or event-rate",
		show(ps, t->s));
}

/* ---- lines ------------------------------------------------------------ */

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* Split ps->buf in place; a '#' ends the line wherever it stands. */
static int tokenize(struct parser *ps)
{
	char *p = ps->buf, *start;
	bool last;

	ps->n_tok = 0;
	for (;;) {
		while (is_blank(*p))
			p++;
		if (!*p || *p == '#')
			return 0;
		start = p;
		while (*p && *p != '#' && !is_blank(*p))
			p++;
		if (grow(&ps->tok, &ps->cap_tok, ps->n_tok + 1,
			 sizeof(*ps->tok)))
			return enomem(ps);
		ps->tok[ps->n_tok++] = (struct tok){
			.s = start,
			.col = start - ps->buf + 1,
			.end = p - ps->buf,
		};
		last = !*p || *p == '#';
		*p++ = '\0';
		if (last)
			return 0;
	}
}

static int parse_line(struct parser *ps, const char *s, size_t n)
{
	const char *nul;
	int err;

	/* CRLF: the CR is no part of the line, not even of its length. */
	if (n && s[n - 1] == '\r')
		n--;
	if (n > CF_LINE_MAX)
		return perr(ps, CF_LINE_MAX + 1,
			    "line too long (the limit is %d bytes)",
			    CF_LINE_MAX);
	nul = memchr(s, '\0', n);
	if (nul)
		return perr(ps, nul - s + 1, "NUL byte in the policy text");
	memcpy(ps->buf, s, n);
	ps->buf[n] = '\0';
	err = tokenize(ps);
	if (err || !ps->n_tok)
		return err;
	return dispatch(ps);
}

static int parse_text(struct parser *ps, const char *text, size_t len)
{
	const char *p = text, *end = text + len, *nl;
	int err;

	/* Editors on some systems start UTF-8 files with a byte-order mark. */
	if (len >= 3 && !memcmp(p, "\xef\xbb\xbf", 3))
		p += 3;
	while (p < end) {
		nl = memchr(p, '\n', end - p);
		ps->line++;
		err = parse_line(ps, p, (nl ? nl : end) - p);
		if (err)
			return err;
		p = nl ? nl + 1 : end;
	}
	return 0;
}

/* The directory of the policy file with its '/', or NULL for the cwd. */
static int policy_dir(const char *path, char **dir)
{
	const char *slash = strrchr(path, '/');

	*dir = NULL;
	if (!slash || !strcmp(path, "-"))
		return 0;
	*dir = strndup(path, slash - path + 1);
	return *dir ? 0 : -ENOMEM;
}

static int parser_init(struct parser *ps, const char *path)
{
	struct cf_policy *pol;

	pol = calloc(1, sizeof(*pol));
	if (!pol)
		return enomem(ps);
	ps->pol = pol;
	pol->default_action = CF_ALLOW;
	pol->malformed = CF_DENY;
	pol->event_rate = CF_EVENT_RATE_DEFAULT;
	pol->event_burst = CF_EVENT_BURST_DEFAULT;
	pol->path = strdup(path);
	ps->buf = malloc(CF_LINE_MAX + 1);
	if (!pol->path || !ps->buf || policy_dir(path, &ps->dir))
		return enomem(ps);
	return 0;
}

static void parser_fini(struct parser *ps)
{
	cf_policy_free(ps->pol);
	free(ps->dir);
	free(ps->buf);
	free(ps->tok);
	free(ps->seen);
}

int cf_policy_parse(const char *text, size_t len, const char *path,
		    struct cf_policy **out, struct cf_err *e)
{
	struct parser ps = { .e = e };
	int err;

	if (!path)
		path = "-";
	ps.file = strcmp(path, "-") ? path : "<stdin>";
	if (len > CF_POLICY_MAX)
		return cf_err_set(
			e, EFBIG, ps.file, 0, 0,
			"policy too large (%zu bytes; the limit is %d MiB)",
			len, CF_POLICY_MAX >> 20);
	err = parser_init(&ps, path);
	if (!err)
		err = parse_text(&ps, text, len);
	if (!err) {
		*out = ps.pol;
		ps.pol = NULL;
	}
	parser_fini(&ps);
	return err;
}

/* ---- files ------------------------------------------------------------ */

/*
 * Read all of fd, but no more than the limit plus one byte: enough for
 * cf_policy_parse to say "too large" without swallowing an endless pipe.
 */
static int read_all(int fd, char **text, size_t *len)
{
	size_t cap = 0, n = 0;
	char *buf = NULL, *p;
	ssize_t r = 0;
	int err = 0;

	do {
		if (n == cap) {
			cap = cap ? 2 * cap : 64 * 1024;
			if (cap > CF_POLICY_MAX + 1)
				cap = CF_POLICY_MAX + 1;
			p = realloc(buf, cap);
			if (!p) {
				err = -ENOMEM;
				break;
			}
			buf = p;
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0 && errno != EINTR)
			err = -errno;
		if (r > 0)
			n += r;
	} while (!err && r && n <= CF_POLICY_MAX);
	if (err) {
		free(buf);
		return err;
	}
	*text = buf;
	*len = n;
	return 0;
}

int cf_policy_load(const char *path, struct cf_policy **out, struct cf_err *e)
{
	bool std_in = !path || !strcmp(path, "-");
	const char *name = std_in ? "<stdin>" : path;
	char *text = NULL;
	size_t len = 0;
	int fd, err;

	fd = std_in ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = errno;
		return cf_err_set(e, err, name, 0, 0, "cannot open: %s",
				  strerror(err));
	}
	err = read_all(fd, &text, &len);
	if (!std_in)
		close(fd);
	if (err)
		return cf_err_set(e, -err, name, 0, 0, "cannot read: %s",
				  strerror(-err));
	err = cf_policy_parse(text, len, path, out, e);
	free(text);
	return err;
}

void cf_policy_free(struct cf_policy *p)
{
	size_t i;

	if (!p)
		return;
	for (i = 0; i < p->n_rules; i++)
		free(p->rules[i].items);
	for (i = 0; i < p->n_dbs; i++)
		free(p->dbs[i].path);
	free(p->rules);
	free(p->dbs);
	free(p->path);
	free(p);
}

const char *cf_default_database(void)
{
	const char *env = getenv("CAMFENCE_DATABASE");

	if (env && *env)
		return env;
	if (!access(CF_DB_DEFAULT_LIVE, R_OK))
		return CF_DB_DEFAULT_LIVE;
	return CF_DB_DEFAULT_PKG;
}

const char *cf_action_str(enum cf_action a)
{
	switch (a) {
	case CF_ALLOW:
		return "allow";
	case CF_DENY:
		return "deny";
	case CF_MONITOR:
		return "monitor";
	}
	return "?";
}
