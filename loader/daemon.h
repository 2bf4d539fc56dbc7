/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * daemon.h - `camfence daemon`, shared between its files:
 *
 *   daemon.c         command line, configuration, the poll loop, events
 *   daemon_link.c    link tracking (rtnetlink through libnl): attach the
 *                    configured interfaces, again when they come back
 *   daemon_reload.c  the policy: adopt or push at start, reload on SIGHUP
 *                    and when the policy or a database file changes
 *
 * The daemon owns nothing the kernel needs: programs, links and maps are
 * pinned (DESIGN.md decision 7), so enforcement goes on while it is
 * stopped or killed, and a new daemon adopts what it finds.
 */
#ifndef CF_DAEMON_H
#define CF_DAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "conf.h"
#include "events.h"
#include "pin.h"
#include "push.h"

struct cf_metrics_srv;
struct nl_sock;
struct ring_buffer;

/* What the daemon knows about one configured interface. */
struct dmn_iface {
	int ifindex;	    /* 0 while it does not exist */
	int gone_ifindex;   /* what it had before it went */
	int failed_ifindex; /* attaching here failed: retry on the tick */
};

/* Command-line settings; they override the configuration file's. */
struct dmn_args {
	const char *conf_path;
	bool conf_explicit;
	struct cf_conf over; /* the fields below say which are set */
	bool policy_set, on_missing_set, listen_set, textfile_set,
		textfile_mode_set, age_set, log_set;
};

struct dmn_watch {
	int wd;
	char dir[PATH_MAX];
};

struct cf_daemon {
	struct dmn_args *args;
	struct cf_conf conf;
	struct dmn_iface *ifs; /* one per conf.ifaces */
	struct cf_runtime rt;

	struct cf_push *cur; /* the policy in force as we compiled it */
	uint8_t digest[32];  /* cur's, whose compiled tables are freed */
	uint64_t generation;
	struct cf_evfmt fmt; /* events, attributed with cur's databases */
	struct ring_buffer *rb;

	struct nl_sock *nl;
	bool links_changed; /* a link event about an interface we track */

	int ino_fd;
	struct dmn_watch *watches;
	size_t n_watches;
	char (*files)[PATH_MAX]; /* the files whose change means reload */
	size_t n_files;
	double reload_at; /* CLOCK_MONOTONIC ms; 0: none pending */

	int sig_fd;
	struct cf_metrics_srv *metrics; /* NULL when not served */
	int pid_fd;
	unsigned long ticks;
	time_t db_warned;
	bool stop;
};

/* daemon_link.c */
int dmn_link_open(struct cf_daemon *d);
void dmn_link_close(struct cf_daemon *d);
int dmn_link_fd(const struct cf_daemon *d);
void dmn_link_read(struct cf_daemon *d);
/* Clean dead attachments, attach what is missing; quiet when all is. */
void dmn_reconcile(struct cf_daemon *d);
bool dmn_attach_pending(const struct cf_daemon *d);

/* daemon_reload.c */
int dmn_watch_open(struct cf_daemon *d);
void dmn_watch_close(struct cf_daemon *d);
void dmn_watch_read(struct cf_daemon *d);
/*
 * Compile the configured policy; adopt the live image when it has the
 * same digest, else push.  On any error the policy in force stays and
 * the error is logged.
 */
int dmn_policy_load(struct cf_daemon *d, const char *why);
void dmn_policy_free(struct cf_daemon *d);
void dmn_db_freshness(struct cf_daemon *d);

#endif /* CF_DAEMON_H */
