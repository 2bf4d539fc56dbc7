// SPDX-License-Identifier: GPL-2.0-only
/*
 * datapath.c - `cfbench datapath DIR`: what camfence's whole XDP program
 * costs per frame beyond the lookup, by path.
 *
 * The real cf_xdp_ingress (build/camfence.skel.h) runs one frame
 * `repeat` times under BPF_PROG_TEST_RUN with the bench image installed:
 * allowed and denied destinations whose walk ends at the root (so the
 * lookup is one word), a denied one with events at the policy's rate
 * (suppressed after the burst, as in a flood) and with events off.  An
 * empty XDP program gives what the test run itself costs.  A repeated
 * frame is the best case for the lookup, which is the point here: what
 * is left is parsing, counting and the drop path.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "camfence.h"
#include "cfbench.h"
#include "camfence.skel.h"

#define REPEAT 1000000
#define EVENT_RATE_WORD (offsetof(struct cf_image_hdr, event_rate) / 4)
#define BEST_OF 5

static const uint8_t mac_a[6] = { 2, 0, 0, 0, 0, 1 };
static const uint8_t mac_b[6] = { 2, 0, 0, 0, 0, 2 };

/*
 * A frame to the first address of the set with this verdict and a root
 * leaf (node 0) or a walk below the root (node CF_ENT_NODE); failing
 * that (small test databases), any address with the verdict.
 */
static int pick(const struct bench_data *d, const struct bench_set *s,
		int verdict, uint32_t node, uint8_t frame[FRAME_LEN])
{
	size_t alen = s->family == 4 ? 4 : 16;
	uint32_t i, root, e, any;

	for (i = 0; i < 2 * s->n; i++) {
		const uint8_t *a = s->addr + (size_t)(i % s->n) * alen;

		any = i >= s->n;
		root = s->family == 4 ? CF_V4_ROOT : CF_V6_ROOT;
		e = d->image[root + (a[0] << 8 | a[1])];
		if (verdict_of(d, s->class[i % s->n]) != verdict ||
		    (!any && (e & CF_ENT_NODE) != node))
			continue;
		frame_build(frame, s->family, mac_a, mac_b);
		if (s->family == 4) {
			struct iphdr *iph = (struct iphdr *)(frame + ETH_HLEN);

			memcpy(&iph->daddr, a, 4);
			iph->check = 0;
			iph->check = ip_csum(iph, sizeof(*iph));
		} else {
			memcpy(frame + ETH_HLEN + 24, a, 16);
		}
		return 0;
	}
	return -ENOENT;
}

/* Best of BEST_OF runs of REPEAT, ns per frame; -1 on error. */
static int run(int fd, const uint8_t *frame, int want)
{
	struct xdp_md ctx = { .data_end = FRAME_LEN, .ingress_ifindex = 1 };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame,
		    .data_size_in = FRAME_LEN, .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx), .repeat = REPEAT);
	int i, best = -1;

	for (i = 0; i < BEST_OF; i++) {
		if (bpf_prog_test_run_opts(fd, &o) ||
		    (want >= 0 && (int)o.retval != want))
			return -1;
		if (best < 0 || (int)o.duration < best)
			best = o.duration;
	}
	return best;
}

static int empty_prog(void)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K,
		  .dst_reg = BPF_REG_0,
		  .imm = XDP_PASS },
		{ .code = BPF_JMP | BPF_EXIT },
	};

	return bpf_prog_load(BPF_PROG_TYPE_XDP, "cfb_empty", "GPL", insns, 2,
			     NULL);
}

struct dp_case {
	const char *name;
	const char *set;
	int verdict;
	uint32_t node;
	bool events_off;
};

static int measure(struct camfence *skel, const struct image_shape *sh,
		   const struct bench_data *d, const char *dir)
{
	static const struct dp_case cases[] = {
		{ "v4_pass_root", "v4-uniform", CF_VERDICT_PASS, 0, false },
		{ "v4_drop_root_events", "v4-deny", CF_VERDICT_DROP, 0, false },
		{ "v4_drop_root_no_events", "v4-deny", CF_VERDICT_DROP, 0,
		  true },
		{ "v6_pass_root", "v6-dbnet", CF_VERDICT_PASS, 0, false },
		{ "v6_drop_deep_events", "v6-deny", CF_VERDICT_DROP,
		  CF_ENT_NODE, false },
		{ "v6_drop_deep_no_events", "v6-deny", CF_VERDICT_DROP,
		  CF_ENT_NODE, true },
	};
	int fd = bpf_program__fd(skel->progs.cf_xdp_ingress), efd, ns, err = 0;
	uint8_t frame[FRAME_LEN];
	struct bench_set s;
	bool off = false;
	char file[64];
	size_t i;

	efd = empty_prog();
	frame_build(frame, 4, mac_a, mac_b);
	printf("{\"repeat\": %d, \"empty_xdp\": %d", REPEAT,
	       run(efd, frame, -1));
	close(efd);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]) && !err; i++) {
		const struct dp_case *c = &cases[i];

		if (c->events_off != off) {
			d->image[EVENT_RATE_WORD] = c->events_off ? 0 : 100;
			err = image_put(bpf_map__fd(skel->maps.cf_policy), sh,
					d->image, d->image_words);
			off = c->events_off;
		}
		snprintf(file, sizeof(file), "set-%s.bin", c->set);
		err = err ?: set_read(dir, file, &s);
		if (err)
			break;
		err = pick(d, &s, c->verdict, c->node, frame);
		set_free(&s);
		ns = err ? -1 :
			   run(fd, frame,
			       c->verdict == CF_VERDICT_DROP ? XDP_DROP :
							       XDP_PASS);
		printf(", \"%s\": %d", c->name, ns);
		err = err ?: (ns < 0 ? -EIO : 0);
	}
	printf(", \"ok\": %s}\n", err ? "false" : "true");
	return err;
}

int cmd_datapath(int argc, char **argv)
{
	struct bench_data d = {};
	struct image_shape sh;
	struct bpf_map *inner;
	struct camfence *skel;
	int err;

	if (argc != 2) {
		pr_err("usage: cfbench datapath DIR");
		return -EINVAL;
	}
	err = data_read(argv[1], NULL, &d);
	if (err)
		return err;
	skel = camfence__open();
	inner = skel ? bpf_map__inner_map(skel->maps.cf_policy) : NULL;
	if (!inner) {
		err = -ENOENT;
		goto out;
	}
	sh = (struct image_shape){ bpf_map__type(inner),
				   bpf_map__map_flags(inner),
				   bpf_map__key_size(inner),
				   bpf_map__value_size(inner),
				   bpf_map__max_entries(inner) };
	err = camfence__load(skel);
	if (!err &&
	    d.image_words > (size_t)sh.max_entries * CF_IMAGE_ELEM_WORDS)
		err = -E2BIG;
	d.image[EVENT_RATE_WORD] = 100;
	err = err ?: image_put(bpf_map__fd(skel->maps.cf_policy), &sh, d.image,
				 d.image_words);
	err = err ?: measure(skel, &sh, &d, argv[1]);
out:
	camfence__destroy(skel);
	data_free(&d);
	return err;
}
