/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * log.h - messages for the operator.
 *
 * pr_err is the one clear line that explains a failure: on stderr, or as
 * {"error": "..."} on stdout in JSON mode (only the first one, so stdout
 * stays one JSON document).  pr_warn/pr_info/pr_debug go to stderr by
 * verbosity; pr_info is silent in JSON mode.  libbpf's own messages come
 * out one level quieter than ours (see log.c).
 *
 * Messages quote text camfence did not write (paths, AS names, lines of
 * databases): each message is shown with its control characters and
 * bytes that are not UTF-8 escaped (policy/text.h), so it stays one line
 * and cannot drive the terminal or forge a log line.
 */
#ifndef CF_LOG_H
#define CF_LOG_H

#include <stdbool.h>

#define __printf(a, b) __attribute__((format(printf, a, b)))

enum cf_log_level {
	CF_LOG_ERR = 0,
	CF_LOG_WARN = 1,
	CF_LOG_INFO = 1,
	CF_LOG_DEBUG = 2,
	CF_LOG_LIBBPF_DEBUG = 3,
};

void cf_log_init(void);
void pr_err(const char *fmt, ...) __printf(1, 2);
void pr_warn(const char *fmt, ...) __printf(1, 2);
void pr_info(const char *fmt, ...) __printf(1, 2);
void pr_debug(const char *fmt, ...) __printf(1, 2);

/*
 * One line of text output on stdout: fmt formatted, escaped as messages
 * are, then a newline (which fmt must not end with).  For lines that
 * show paths, AS names and other text from files or the network.
 */
void cf_line(const char *fmt, ...) __printf(1, 2);

/*
 * Send every message to syslog (openlog() first) instead of stderr, by
 * priority: the daemon's "log syslog".  While nothing listens on
 * /dev/log, messages go to stderr (said once), and the socket is looked
 * for again every two seconds a message is logged.
 */
void cf_log_syslog(bool on);

/* Whether a message logged now goes to syslog; for the daemon's events. */
bool cf_log_to_syslog(void);

/* True once pr_err has reported something. */
int cf_log_errored(void);

#endif /* CF_LOG_H */
