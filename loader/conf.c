// SPDX-License-Identifier: GPL-2.0-only
/*
 * conf.c - parse camfence.conf (see conf.h for the format).
 *
 * No loader dependencies beyond headers: the unit test compiles this file
 * into itself and links only the policy library.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "camfence.h"
#include "conf.h"

#define CONF_TEXT_MAX (1u << 20)
#define MAX_TOKENS 5

static const char *const mode_names[] = {
	[CF_MODE_AUTO] = "auto",
	[CF_MODE_NATIVE] = "native",
	[CF_MODE_GENERIC] = "generic",
	[CF_MODE_TC] = "tc",
};

struct tok {
	const char *s;
	size_t len;
	unsigned col;
};

/* One line being parsed: where it is and its tokens. */
struct line {
	const char *file;
	const char *dir; /* for relative paths: the file's directory */
	unsigned no;
	struct tok t[MAX_TOKENS];
	size_t n;
	struct cf_err *e;
};

const char *cf_conf_mode_str(enum cf_mode m)
{
	return (unsigned)m < 4 ? mode_names[m] : "?";
}

void cf_conf_init(struct cf_conf *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->policy, sizeof(c->policy), "%s", "/etc/camfence/policy.conf");
	c->on_missing = -1;
	snprintf(c->metrics_listen, sizeof(c->metrics_listen), "%s",
		 CF_METRICS_LISTEN_DEFAULT);
	c->database_max_age = CF_CONF_DB_MAX_AGE_DEFAULT;
	c->log = CF_CONF_LOG_SYSLOG;
	c->metrics_allow_uid = -1;
	c->metrics_textfile_mode = CF_CONF_TEXTFILE_MODE_DEFAULT;
}

void cf_conf_free(struct cf_conf *c)
{
	free(c->ifaces);
	c->ifaces = NULL;
	c->n_ifaces = 0;
}

static bool tok_is(const struct tok *t, const char *s)
{
	return t->len == strlen(s) && !memcmp(t->s, s, t->len);
}

static int bad(struct line *l, size_t i, const char *fmt, const char *what)
{
	const struct tok *t = &l->t[i < l->n ? i : l->n - 1];
	unsigned col = i < l->n ? t->col : t->col + (unsigned)t->len;

	return cf_err_set(l->e, EINVAL, l->file, l->no, col, fmt, what);
}

/* Exactly n tokens after the directive. */
static int want_args(struct line *l, size_t n, const char *usage)
{
	if (l->n < n + 1)
		return bad(l, l->n, "missing argument: %s", usage);
	if (l->n > n + 1)
		return bad(l, n + 1, "unexpected argument: %s", usage);
	return 0;
}

int cf_conf_check_ifname(const char *s, char *why, size_t len)
{
	size_t n = strlen(s);

	if (!n || n >= IF_NAMESIZE) {
		snprintf(why, len, "'%s' is not an interface name (1 to %d characters)",
			 s, IF_NAMESIZE - 1);
		return -EINVAL;
	}
	if (strpbrk(s, "/: \t") || !strcmp(s, ".") || !strcmp(s, "..")) {
		snprintf(why, len, "'%s' is not an interface name", s);
		return -EINVAL;
	}
	return 0;
}

/* "127.0.0.1:9733" or "[::1]:9733"; the port from 1 to 65535. */
int cf_conf_check_listen(const char *s, char *why, size_t len)
{
	char host[INET6_ADDRSTRLEN + 2], *end;
	unsigned char buf[16];
	const char *colon = strrchr(s, ':');
	size_t hl = colon ? (size_t)(colon - s) : 0;
	bool v6 = hl >= 2 && s[0] == '[' && s[hl - 1] == ']';
	unsigned long port;

	if (!colon || !hl || hl >= sizeof(host))
		goto bad;
	memcpy(host, s + v6, hl - 2 * v6);
	host[hl - 2 * v6] = '\0';
	if (inet_pton(v6 ? AF_INET6 : AF_INET, host, buf) != 1)
		goto bad;
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (errno || end == colon + 1 || *end || colon[1] == '-' || !port ||
	    port > 65535)
		goto bad;
	return 0;
bad:
	snprintf(why, len,
		 "'%s' is not ADDR:PORT (e.g. 127.0.0.1:9733, [::1]:9733) or off",
		 s);
	return -EINVAL;
}

/*
 * The names useradd and systemd accept: a letter or '_' first, then
 * letters, digits, '_', '.' and '-', a '$' last for Samba machines.
 * Anything else is a typo, not a user to look up.
 */
static bool user_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (!n || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
		return false;
	for (size_t i = 1; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (!isalnum(ch) && !strchr("_.-", ch) &&
		    !(ch == '$' && i == n - 1))
			return false;
	}
	return true;
}

int cf_conf_parse_uid(const char *s, long *uid, char *why, size_t len)
{
	unsigned long v;
	struct passwd *pw;
	char *end;

	if (s[0] == '-' && isdigit((unsigned char)s[1])) {
		snprintf(why, len, "'%s' is negative: a uid is 0 to %ld", s,
			 CF_CONF_UID_MAX);
		return -EINVAL;
	}
	if (isdigit((unsigned char)s[0])) {
		errno = 0;
		v = strtoul(s, &end, 10);
		if (errno || *end || v > (unsigned long)CF_CONF_UID_MAX)
			goto bad;
		*uid = (long)v;
		return 0;
	}
	if (!user_name_ok(s))
		goto bad;
	pw = getpwnam(s);
	if (!pw) {
		snprintf(why, len, "unknown user '%s' (not in the user database)",
			 s);
		return -EINVAL;
	}
	*uid = (long)pw->pw_uid;
	return 0;
bad:
	snprintf(why, len, "'%s' is not a uid (0 to %ld) or a user name", s,
		 CF_CONF_UID_MAX);
	return -EINVAL;
}

int cf_conf_parse_file_mode(const char *s, unsigned *mode, char *why,
			    size_t len)
{
	size_t n = strspn(s, "01234567");
	unsigned long v;

	if ((n != 3 && n != 4) || s[n]) {
		snprintf(why, len,
			 "'%s' is not an octal file mode (3 or 4 digits, e.g. 0640)",
			 s);
		return -EINVAL;
	}
	v = strtoul(s, NULL, 8);
	if (v > 0777) {
		snprintf(why, len,
			 "'%s' sets setuid, setgid or sticky bits: a textfile takes permission bits only",
			 s);
		return -EINVAL;
	}
	if (v & 0002) {
		snprintf(why, len,
			 "'%s' lets every user write the textfile: no o+w (e.g. 0640, 0644)",
			 s);
		return -EINVAL;
	}
	*mode = (unsigned)v;
	return 0;
}

int cf_conf_add_iface(struct cf_conf *c, const char *name, enum cf_mode mode,
		      unsigned line)
{
	struct cf_conf_iface *v;
	char why[128];

	if (cf_conf_check_ifname(name, why, sizeof(why)))
		return -EINVAL;
	for (size_t i = 0; i < c->n_ifaces; i++) {
		if (!strcmp(c->ifaces[i].name, name)) {
			c->ifaces[i].mode = mode;
			return 0;
		}
	}
	v = realloc(c->ifaces, (c->n_ifaces + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	c->ifaces = v;
	v += c->n_ifaces++;
	snprintf(v->name, sizeof(v->name), "%s", name);
	v->mode = mode;
	v->line = line;
	return 0;
}

/* A token as a NUL-terminated string, or an error if it does not fit. */
static int tok_str(struct line *l, size_t i, char *buf, size_t len)
{
	if (l->t[i].len >= len)
		return bad(l, i, "%s is too long", "value");
	memcpy(buf, l->t[i].s, l->t[i].len);
	buf[l->t[i].len] = '\0';
	return 0;
}

static int parse_mode(struct line *l, size_t i, enum cf_mode *mode)
{
	for (size_t m = 0; m < sizeof(mode_names) / sizeof(mode_names[0]); m++) {
		if (tok_is(&l->t[i], mode_names[m])) {
			*mode = (enum cf_mode)m;
			return 0;
		}
	}
	return bad(l, i, "mode must be %s", "auto, native, generic or tc");
}

static int d_interface(struct line *l, struct cf_conf *c)
{
	enum cf_mode mode = CF_MODE_AUTO;
	char name[64], why[128];
	int err;

	if (l->n != 2 && l->n != 4)
		return bad(l, l->n == 1 ? 1 : l->n == 3 ? 3 : 4,
			   "expected %s", "interface NAME [mode MODE]");
	err = tok_str(l, 1, name, sizeof(name));
	if (!err && cf_conf_check_ifname(name, why, sizeof(why)))
		err = bad(l, 1, "%s", why);
	if (!err && l->n == 4 && !tok_is(&l->t[2], "mode"))
		err = bad(l, 2, "expected %s", "'mode' after the interface name");
	if (!err && l->n == 4)
		err = parse_mode(l, 3, &mode);
	for (size_t i = 0; !err && i < c->n_ifaces; i++)
		if (!strcmp(c->ifaces[i].name, name))
			return cf_err_set(l->e, EINVAL, l->file, l->no,
					  l->t[1].col,
					  "interface %s given twice (first on line %u)",
					  name, c->ifaces[i].line);
	return err ?: cf_conf_add_iface(c, name, mode, l->no);
}

/* PATH, relative ones taken from the configuration file's directory. */
static int path_arg(struct line *l, char *out, size_t len)
{
	char p[PATH_MAX];
	int err, n;

	err = want_args(l, 1, "PATH");
	err = err ?: tok_str(l, 1, p, sizeof(p));
	if (err)
		return err;
	if (p[0] == '/' || !l->dir[0])
		n = snprintf(out, len, "%s", p);
	else
		n = snprintf(out, len, "%s/%s", l->dir, p);
	return n < 0 || (size_t)n >= len ? bad(l, 1, "%s is too long", "path") :
					    0;
}

static int d_on_missing(struct line *l, struct cf_conf *c)
{
	int err = want_args(l, 1, "pass or drop");

	if (err)
		return err;
	if (tok_is(&l->t[1], "pass"))
		c->on_missing = CF_VERDICT_PASS;
	else if (tok_is(&l->t[1], "drop"))
		c->on_missing = CF_VERDICT_DROP;
	else
		return bad(l, 1, "expected %s", "pass or drop");
	return 0;
}

static int d_listen(struct line *l, struct cf_conf *c)
{
	char s[sizeof(c->metrics_listen)], why[160];
	int err;

	err = want_args(l, 1, "ADDR:PORT or off");
	err = err ?: tok_str(l, 1, s, sizeof(s));
	if (err)
		return err;
	if (!strcmp(s, "off")) {
		c->metrics_listen[0] = '\0';
		return 0;
	}
	if (cf_conf_check_listen(s, why, sizeof(why)))
		return bad(l, 1, "%s", why);
	memcpy(c->metrics_listen, s, sizeof(s));
	return 0;
}

static int d_max_age(struct line *l, struct cf_conf *c)
{
	char s[16], *end;
	unsigned long v;
	int err;

	err = want_args(l, 1, "DAYS");
	err = err ?: tok_str(l, 1, s, sizeof(s));
	if (err)
		return bad(l, 1, "expected %s", "a number of days");
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || end == s || s[0] == '-' ||
	    v > CF_CONF_DB_MAX_AGE_MAX)
		return bad(l, 1, "expected %s",
			   "a number of days from 0 (never warn) to 36500");
	c->database_max_age = (unsigned)v;
	return 0;
}

static int d_textfile_mode(struct line *l, struct cf_conf *c)
{
	char s[32], why[160];
	int err;

	err = want_args(l, 1, "MODE");
	err = err ?: tok_str(l, 1, s, sizeof(s));
	if (err)
		return err;
	if (cf_conf_parse_file_mode(s, &c->metrics_textfile_mode, why,
				    sizeof(why)))
		return bad(l, 1, "%s", why);
	return 0;
}

static int d_log(struct line *l, struct cf_conf *c)
{
	int err = want_args(l, 1, "syslog or stderr");

	if (err)
		return err;
	if (tok_is(&l->t[1], "syslog"))
		c->log = CF_CONF_LOG_SYSLOG;
	else if (tok_is(&l->t[1], "stderr"))
		c->log = CF_CONF_LOG_STDERR;
	else
		return bad(l, 1, "expected %s", "syslog or stderr");
	return 0;
}

/* One scraper besides root: a second line is a mistake, not a list. */
static int d_allow_uid(struct line *l, struct cf_conf *c)
{
	char s[64], why[160];
	long uid;
	int err;

	if (c->metrics_allow_uid_line)
		return cf_err_set(l->e, EINVAL, l->file, l->no, l->t[0].col,
				  "metrics-allow-uid given twice (first on line %u): the endpoint answers root and one uid",
				  c->metrics_allow_uid_line);
	err = want_args(l, 1, "UID or USER");
	err = err ?: tok_str(l, 1, s, sizeof(s));
	if (err)
		return err;
	if (cf_conf_parse_uid(s, &uid, why, sizeof(why)))
		return bad(l, 1, "%s", why);
	c->metrics_allow_uid = uid;
	c->metrics_allow_uid_line = l->no;
	return 0;
}

static int directive(struct line *l, struct cf_conf *c)
{
	const struct tok *d = &l->t[0];

	if (tok_is(d, "interface"))
		return d_interface(l, c);
	if (tok_is(d, "policy"))
		return path_arg(l, c->policy, sizeof(c->policy));
	if (tok_is(d, "on-missing-policy"))
		return d_on_missing(l, c);
	if (tok_is(d, "metrics-listen"))
		return d_listen(l, c);
	if (tok_is(d, "metrics-textfile"))
		return path_arg(l, c->metrics_textfile,
				sizeof(c->metrics_textfile));
	if (tok_is(d, "metrics-textfile-mode"))
		return d_textfile_mode(l, c);
	if (tok_is(d, "metrics-allow-uid"))
		return d_allow_uid(l, c);
	if (tok_is(d, "database-max-age"))
		return d_max_age(l, c);
	if (tok_is(d, "log"))
		return d_log(l, c);
	return cf_err_set(l->e, EINVAL, l->file, l->no, d->col,
			  "unknown directive '%.*s'",
			  (int)(d->len > 64 ? 64 : d->len), d->s);
}

/* Split [s, end) into tokens up to a '#'; -EINVAL past MAX_TOKENS. */
static int tokenize(struct line *l, const char *s, const char *end)
{
	const char *start = s;

	l->n = 0;
	while (s < end && *s != '#') {
		if (*s == ' ' || *s == '\t' || *s == '\r') {
			s++;
			continue;
		}
		if (l->n == MAX_TOKENS)
			return cf_err_set(l->e, EINVAL, l->file, l->no,
					  (unsigned)(s - start) + 1,
					  "unexpected argument");
		l->t[l->n].s = s;
		l->t[l->n].col = (unsigned)(s - start) + 1;
		while (s < end && *s != ' ' && *s != '\t' && *s != '\r' &&
		       *s != '#')
			s++;
		l->t[l->n].len = (size_t)(s - l->t[l->n].s);
		l->n++;
	}
	return 0;
}

static int parse_lines(const char *text, size_t len, struct line *l,
		       struct cf_conf *c)
{
	const char *s = text, *end = text + len, *nl;
	int err = 0;

	for (l->no = 1; !err && s < end; l->no++, s = nl + 1) {
		nl = memchr(s, '\n', (size_t)(end - s));
		if (!nl)
			nl = end;
		if (memchr(s, '\0', (size_t)(nl - s)))
			return cf_err_set(l->e, EINVAL, l->file, l->no, 0,
					  "NUL byte: not a text file");
		err = tokenize(l, s, nl);
		if (!err && l->n)
			err = directive(l, c);
	}
	return err;
}

int cf_conf_parse(const char *text, size_t len, const char *path,
		  struct cf_conf *c, struct cf_err *e)
{
	struct cf_conf tmp = *c;
	struct line l = { .file = path, .e = e };
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int err;

	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - path) : 0,
		 path);
	if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	l.dir = dir;
	/* a fresh interface list: the file's replaces the defaults' (none) */
	tmp.ifaces = NULL;
	tmp.n_ifaces = 0;
	/* "given twice" means twice in this file */
	tmp.metrics_allow_uid_line = 0;
	err = parse_lines(text, len, &l, &tmp);
	if (err) {
		cf_conf_free(&tmp);
		return err == -ENOMEM ? err : -EINVAL;
	}
	cf_conf_free(c);
	*c = tmp;
	return 0;
}

int cf_conf_load(const char *path, struct cf_conf *c, struct cf_err *e)
{
	FILE *f = fopen(path, "re");
	char *buf;
	size_t n;
	int err;

	if (!f) {
		err = errno;
		return cf_err_set(e, err, path, 0, 0, "cannot open: %s",
				  strerror(err));
	}
	buf = malloc(CONF_TEXT_MAX + 1);
	n = buf ? fread(buf, 1, CONF_TEXT_MAX + 1, f) : 0;
	if (!buf)
		err = cf_err_set(e, ENOMEM, path, 0, 0, "out of memory");
	else if (ferror(f))
		err = cf_err_set(e, EIO, path, 0, 0, "cannot read");
	else if (n > CONF_TEXT_MAX)
		err = cf_err_set(e, EINVAL, path, 0, 0, "larger than 1 MiB");
	else
		err = cf_conf_parse(buf, n, path, c, e);
	free(buf);
	fclose(f);
	return err;
}
