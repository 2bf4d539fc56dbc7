/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * metrics.h - camfence's counters and state for Prometheus, and how old
 * the database behind the live policy is.
 *
 * The exposition is the Prometheus text format 0.0.4: per class (rule,
 * country or ASN listed) packet and byte counters summed over CPUs, the
 * datapath's own counters, the policy's digest, generation and age, the
 * database's build time and age, and where camfence hangs on each
 * interface.  Counters and configuration only: no addresses, no events.
 *
 * It goes out three ways: to a FILE (`camfence metrics`), over HTTP
 * (GET /metrics, loopback by default) and as a node_exporter textfile.
 * The daemon embeds the HTTP server: open it once, add its descriptors to
 * its poll set and its deadline to its timeout, and run it after poll.
 */
#ifndef CF_METRICS_H
#define CF_METRICS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "pin.h"

#define CF_METRICS_ADDR_DEFAULT "127.0.0.1:9733"
#define CF_DB_MAX_AGE_DEFAULT 30 /* days */
#define CF_DB_MAX_AGE_LIMIT 36500

/*
 * The whole exposition; nothing is written when reading the kernel state
 * fails (negative errno, error printed).
 */
int cf_metrics_render(FILE *out, const struct cf_runtime *rt);

/* The same, into memory (*buf malloc'd, the caller frees it). */
int cf_metrics_render_mem(const struct cf_runtime *rt, char **buf,
			  size_t *len);

/*
 * The HTTP endpoint (metrics_http.c): GET /metrics and nothing else,
 * served from the caller's poll loop without ever blocking it.
 *
 * Who connected is known at accept, from the kernel's socket table; a
 * peer that is neither root nor the allowed uid (the environment's
 * CAMFENCE_METRICS_ALLOW_UID) gets 403 at once and is closed, before
 * anything of its request is read.  Root and the allowed uid hold at
 * most CF_METRICS_CONN_PER_UID connections each (a new one drops that
 * uid's oldest), CF_METRICS_CONN_MAX in all; each must send its request
 * within a second and take the answer within two, or is closed.
 */
#define CF_METRICS_CONN_MAX 16
#define CF_METRICS_CONN_PER_UID 4
#define CF_METRICS_NFDS (1 + CF_METRICS_CONN_MAX) /* listener, clients */

struct cf_metrics_srv;
struct pollfd;

/*
 * Listen on "ADDR:PORT" ("127.0.0.1:9733", "[::1]:9733"; NULL for the
 * default).  A non-loopback address is refused (-EINVAL, error printed)
 * unless any_addr is set: the endpoint is meant for a local
 * node_exporter or a tunnel, not for the camera network.  0 and *srv, or
 * a negative errno.
 */
int cf_metrics_srv_open(struct cf_metrics_srv **srv, const char *addr_port,
			bool any_addr);
void cf_metrics_srv_close(struct cf_metrics_srv *srv);

/* Its CF_METRICS_NFDS entries of a poll set (unused ones fd -1). */
void cf_metrics_srv_pollfds(const struct cf_metrics_srv *srv,
			    struct pollfd *p);

/* The earliest connection deadline (cf_now_ms's clock), 0 when none. */
double cf_metrics_srv_deadline(const struct cf_metrics_srv *srv);

/*
 * After every poll, with the entries cf_metrics_srv_pollfds filled:
 * accept, read, answer, write, and close what is past its deadline.
 * Returns how many answers (of any status) went out completely.
 */
int cf_metrics_srv_run(struct cf_metrics_srv *srv, const struct pollfd *p,
		       const struct cf_runtime *rt);

/*
 * Write the exposition to path atomically: a new file of a random name
 * beside it (O_EXCL: nothing planted there is opened), fsync, rename.
 * mode is applied whatever the umask: CF_CONF_TEXTFILE_MODE_DEFAULT
 * (0640) keeps the counters from other users, as the endpoint does; give
 * node_exporter the file's group (a setgid directory) or ask for 0644.
 */
int cf_metrics_textfile(const char *path, unsigned mode,
			const struct cf_runtime *rt);

/*
 * Database freshness.  The threshold is --max-db-age, else the
 * environment's CAMFENCE_MAX_DB_AGE, else 30 days; 0 turns the warning
 * off.  cf_db_max_age_init parses opt (NULL: the environment) and prints
 * the error for a bad value (-EINVAL).
 */
int cf_db_max_age_init(const char *opt);
void cf_db_max_age_set(unsigned long days);
unsigned long cf_db_max_age_days(void);

struct cf_db_age {
	bool known;	      /* the image says when its database was built */
	int64_t age_s;	      /* now - built, never negative */
	unsigned long max_days;
	bool stale;	      /* older than max_days (and max_days > 0) */
};

void cf_db_age_get(time_t built_at, time_t now, struct cf_db_age *a);

/* "database built 2022-10-29 is 1123 days old (max 30)" into buf. */
const char *cf_db_age_warning(time_t built_at, const struct cf_db_age *a,
			      char *buf, size_t len);

/* Text format helpers (metrics_text.c). */

/* A label value with \, " and newline escaped, unquoted. */
void cf_prom_label_value(FILE *f, const char *s);
/* ',name="value"' (no comma when first). */
void cf_prom_label(FILE *f, const char *name, const char *value, bool first);
/* "# HELP name text" (\ and newline escaped) and "# TYPE name type". */
void cf_prom_family(FILE *f, const char *name, const char *type,
		    const char *help);

#endif /* CF_METRICS_H */
