// SPDX-License-Identifier: GPL-2.0-only
/*
 * learn.c - `camfence learn start|stop|status|clear`: switch learning
 * mode on and off (cf_config.learn_rate) and manage what it recorded.
 *
 * The datapath samples one IP packet in learn_rate per CPU into the LRU
 * hash cf_learn, before any policy lookup; `camfence report` attributes
 * the remote ends to countries and ASNs.  Stopping keeps the table, so a
 * report can follow; `clear` empties it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "config.h"
#include "json.h"
#include "learn.h"
#include "log.h"
#include "main.h"
#include "pin.h"
#include "state.h"

enum learn_action { L_START, L_STOP, L_STATUS, L_CLEAR, L_MAX };

static const char *const action_names[L_MAX] = {
	[L_START] = "start",
	[L_STOP] = "stop",
	[L_STATUS] = "status",
	[L_CLEAR] = "clear",
};

static int cmp_pair(const void *a, const void *b)
{
	return memcmp(&((const struct cf_learn_pair *)a)->key,
		      &((const struct cf_learn_pair *)b)->key,
		      sizeof(struct cf_learn_key));
}

/*
 * A hash map walk restarts from the first bucket when the key it stands
 * on is evicted meanwhile, so a pair may come twice: sort, keep one.
 */
static size_t dedup(struct cf_learn_pair *v, size_t n)
{
	size_t i, k = 0;

	qsort(v, n, sizeof(*v), cmp_pair);
	for (i = 0; i < n; i++)
		if (!k || cmp_pair(&v[k - 1], &v[i]))
			v[k++] = v[i];
	return k;
}

int cf_learn_read(int map_fd, struct cf_learn_pair **out, size_t *n)
{
	struct cf_learn_key key, last, *prev = NULL;
	struct cf_learn_pair *v = NULL, *nv;
	size_t cap = 0, len = 0;
	int err = 0;

	while (!bpf_map_get_next_key(map_fd, prev, &key)) {
		if (len == cap) {
			cap = cap ? 2 * cap : 1024;
			nv = realloc(v, cap * sizeof(*v));
			if (!nv) {
				err = -ENOMEM;
				goto out;
			}
			v = nv;
		}
		v[len].key = key;
		last = key;
		prev = &last;
		/* evicted since get_next_key: gone, not an error */
		if (!bpf_map_lookup_elem(map_fd, &key, &v[len].val))
			len++;
	}
	if (errno != ENOENT)
		err = -errno;
out:
	if (err) {
		pr_err("cannot read the learning table cf_learn: %s",
		       strerror(-err));
		free(v);
		return err;
	}
	*n = len ? dedup(v, len) : 0;
	*out = v;
	return 0;
}

/* Delete every pair; *n gets how many went. */
static int learn_clear(int map_fd, size_t *n)
{
	struct cf_learn_pair *v;
	size_t i, len;
	int err;

	err = cf_learn_read(map_fd, &v, &len);
	if (err)
		return err;
	*n = 0;
	for (i = 0; i < len; i++) {
		if (!bpf_map_delete_elem(map_fd, &v[i].key))
			(*n)++;
		else if (errno != ENOENT) {
			err = -errno;
			pr_err("cannot empty cf_learn: %s", strerror(-err));
			break;
		}
	}
	free(v);
	return err;
}

/* Read-modify-write of cf_config under the state lock (attach writes
 * on_missing the same way). */
static int set_rate(const struct cf_runtime *rt, __u32 rate)
{
	struct cf_config cfg;
	int lock, err;

	lock = cf_state_lock();
	if (lock < 0)
		return lock;
	err = cf_config_read(rt->map[CF_MAP_CONFIG], &cfg);
	if (!err) {
		cfg.learn_rate = rate;
		err = cf_config_write(rt->map[CF_MAP_CONFIG], &cfg);
	}
	cf_state_unlock(lock);
	return err;
}

/* The rate in force and the size of the table. */
static int show(const struct cf_runtime *rt, enum learn_action a,
		size_t cleared)
{
	struct json_writer *jw = cf_json();
	struct cf_learn_pair *v;
	struct cf_config cfg;
	size_t n, cams = 0;
	int err;

	err = cf_config_read(rt->map[CF_MAP_CONFIG], &cfg) ?:
		      cf_learn_read(rt->map[CF_MAP_LEARN], &v, &n);
	if (err)
		return err;
	/* sorted by camera first: count the changes */
	for (size_t i = 0; i < n; i++)
		cams += !i ||
			memcmp(v[i].key.camera, v[i - 1].key.camera, 16) ||
			v[i].key.family != v[i - 1].key.family;
	free(v);
	if (cf_g.json) {
		jw_start_object(jw);
		jw_bool_field(jw, "learning", cfg.learn_rate != 0);
		jw_uint_field(jw, "sample", cfg.learn_rate);
		jw_uint_field(jw, "pairs", n);
		jw_uint_field(jw, "cameras", cams);
		jw_uint_field(jw, "capacity", CF_LEARN_ENTRIES);
		if (a == L_CLEAR)
			jw_uint_field(jw, "cleared", cleared);
		jw_end_object(jw);
		return 0;
	}
	if (a == L_CLEAR)
		printf("cleared %zu pairs\n", cleared);
	if (cfg.learn_rate)
		printf("learning: on, 1 in %u IP packets per CPU\n",
		       cfg.learn_rate);
	else
		printf("learning: off\n");
	printf("recorded: %zu camera/remote pairs (room for %u), %zu camera%s\n",
	       n, CF_LEARN_ENTRIES, cams, cams == 1 ? "" : "s");
	return 0;
}

static int learn(enum learn_action a, unsigned long rate)
{
	struct cf_runtime rt;
	size_t cleared = 0;
	int err;

	err = cf_runtime_open(&rt, 0);
	if (err)
		return err;
	if (a == L_START || a == L_STOP)
		err = set_rate(&rt, a == L_START ? (__u32)rate : 0);
	else if (a == L_CLEAR)
		err = learn_clear(rt.map[CF_MAP_LEARN], &cleared);
	if (!err)
		err = show(&rt, a, cleared);
	cf_runtime_close(&rt);
	return err;
}

/* "start", "sta" ... by unique prefix, as commands are. */
static int parse_action(const char *s, enum learn_action *a)
{
	int found = -1, n = 0;

	for (int i = 0; i < L_MAX; i++) {
		if (!strcmp(action_names[i], s)) {
			*a = i;
			return 0;
		}
		if (!strncmp(action_names[i], s, strlen(s))) {
			found = i;
			n++;
		}
	}
	if (n == 1) {
		*a = found;
		return 0;
	}
	pr_err("learn: '%s' is %s; use start, stop, status or clear", s,
	       n ? "ambiguous" : "not an action");
	return -EINVAL;
}

static int do_learn(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "sample", required_argument, NULL, 's' },
		CF_COMMON_LONGOPTS,
		{},
	};
	enum learn_action a = L_STATUS;
	unsigned long rate = CF_LEARN_RATE_DEFAULT;
	bool rate_set = false;
	int c, ret;

	while ((c = getopt_long(argc, argv, "s:" CF_COMMON_SHORTOPTS, opts,
				NULL)) != -1) {
		if (c == 's') {
			if (cf_parse_ulong("--sample", optarg, UINT32_MAX,
					   &rate))
				return CF_EXIT_USAGE;
			if (!rate) {
				pr_err("--sample: 0 would record nothing (learn stop switches learning off)");
				return CF_EXIT_USAGE;
			}
			rate_set = true;
		} else if ((ret = cf_common_opt(c, &cf_cmd_learn)) >= 0) {
			return ret;
		}
	}
	if (argc - optind > 1 ||
	    (optind < argc && parse_action(argv[optind], &a))) {
		cf_cmd_usage(&cf_cmd_learn, true);
		return CF_EXIT_USAGE;
	}
	if (rate_set && a != L_START) {
		pr_err("--sample goes with learn start");
		return CF_EXIT_USAGE;
	}
	return cf_exit_for(learn(a, rate));
}

const struct cf_cmd cf_cmd_learn = {
	.name = "learn",
	.run = do_learn,
	.summary = "record which remote addresses each camera talks to",
	.args = "[start [--sample N] | stop | status | clear]",
	.options =
		"  -s, --sample N  record 1 in N IP packets per CPU (default 1:\n"
		"                  all; rare contacts may slip a larger N)\n"
		"  start    switch learning on (no policy needed)\n"
		"  stop     switch it off; what was recorded stays\n"
		"  status   the rate and the size of the table (the default)\n"
		"  clear    forget what was recorded\n"
		"  `camfence report` shows what was learned.\n",
};
