/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * conf.h - the daemon's configuration file, /etc/camfence/camfence.conf.
 *
 * One directive a line, '#' starts a comment, tokens separated by blanks:
 *
 *   interface NAME [mode auto|native|generic|tc]   # may repeat
 *   policy PATH                  # default /etc/camfence/policy.conf
 *   on-missing-policy pass|drop  # verdict while no policy is loaded
 *   metrics-listen ADDR:PORT|off # default 127.0.0.1:9733; [v6]:port
 *   metrics-textfile PATH        # node_exporter textfile (default none)
 *   metrics-textfile-mode MODE   # its octal mode, default 0640, no o+w
 *   metrics-allow-uid UID|USER   # the one scraper answered besides root
 *   database-max-age DAYS        # warn when older (default 30, 0 never)
 *   log syslog|stderr            # default syslog
 *
 * Relative paths are taken from the configuration file's directory.
 * Errors name file:line:column, as the policy parser's do, and leave the
 * caller's configuration untouched.
 */
#ifndef CF_CONF_H
#define CF_CONF_H

#include <limits.h>
#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "hook.h"

#define CF_CONF_DEFAULT "/etc/camfence/camfence.conf"
#define CF_METRICS_LISTEN_DEFAULT "127.0.0.1:9733"
#define CF_CONF_DB_MAX_AGE_DEFAULT 30
#define CF_CONF_DB_MAX_AGE_MAX 36500
#define CF_CONF_UID_MAX 0x7fffffffL
/* the textfile's: the endpoint answers root and one uid, not everyone */
#define CF_CONF_TEXTFILE_MODE_DEFAULT 0640

enum cf_conf_log {
	CF_CONF_LOG_SYSLOG,
	CF_CONF_LOG_STDERR,
};

struct cf_conf_iface {
	char name[IF_NAMESIZE];
	enum cf_mode mode;
	unsigned line; /* 0: from the command line */
};

struct cf_conf {
	struct cf_conf_iface *ifaces;
	size_t n_ifaces;
	char policy[PATH_MAX];
	int on_missing;		   /* enum cf_verdict, or -1: leave as is */
	char metrics_listen[64];   /* "" when off */
	char metrics_textfile[PATH_MAX]; /* "" when none */
	unsigned metrics_textfile_mode;  /* permission bits, never o+w */
	long metrics_allow_uid;	   /* besides root; -1: none */
	unsigned metrics_allow_uid_line; /* where the file set it; 0: not */
	unsigned database_max_age; /* days; 0: never warn */
	enum cf_conf_log log;
};

/* The defaults: no interface, the default policy, metrics on loopback. */
void cf_conf_init(struct cf_conf *c);
void cf_conf_free(struct cf_conf *c);

/*
 * Parse text (len bytes) read from path into *c.  On error *c is left as
 * it was and e says file:line:column; returns -EINVAL (or -ENOMEM).
 */
int cf_conf_parse(const char *text, size_t len, const char *path,
		  struct cf_conf *c, struct cf_err *e);

/* Read and parse a file; a missing file is -ENOENT with e filled. */
int cf_conf_load(const char *path, struct cf_conf *c, struct cf_err *e);

/* Add (or replace the mode of) an interface; -EINVAL on a bad name. */
int cf_conf_add_iface(struct cf_conf *c, const char *name, enum cf_mode mode,
		      unsigned line);

/* Checkers the command line shares; 0 or -EINVAL with why[] filled. */
int cf_conf_check_listen(const char *s, char *why, size_t len);
int cf_conf_check_ifname(const char *s, char *why, size_t len);

/*
 * A uid (0 to CF_CONF_UID_MAX) or a user name, looked up in the user
 * database now, into *uid; 0 or -EINVAL with why[] filled.
 */
int cf_conf_parse_uid(const char *s, long *uid, char *why, size_t len);

/*
 * A file mode for the metrics textfile: octal, 3 or 4 digits ("640",
 * "0640"), permission bits only, not writable by others; 0 or -EINVAL
 * with why[] filled.
 */
int cf_conf_parse_file_mode(const char *s, unsigned *mode, char *why,
			    size_t len);

const char *cf_conf_mode_str(enum cf_mode m);

#endif /* CF_CONF_H */
