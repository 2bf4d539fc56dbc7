// SPDX-License-Identifier: GPL-2.0-only
/*
 * pps.c - `cfbench pps DIR ...`: frames per second through a veth pair.
 *
 * gen_xdp runs under BPF_PROG_TEST_RUN with BPF_F_TEST_XDP_LIVE_FRAMES in
 * the generator's namespace: every frame it returns XDP_TX leaves the
 * generator's veth and arrives at its peer in the namespace under test,
 * where the filter under test judges it.  The kernel runs the peer's NAPI
 * poll on this CPU each time a batch of 64 frames is flushed, so the time
 * a run takes is the generator's and the receiver's work together; the
 * filters differ only in the receiver's part.  Optionally attaches
 * bare_xdp or lpm_xdp (bench.bpf.c), or camfence's cf_xdp_ingress with a
 * given image (a layout prototype), to the peer for the duration.
 *
 * Each --case FAMILY:SET is one run over the first --ents addresses of
 * the set, in one process so that loading the programs is paid once.
 * Prints a JSON line per case: frames, ns per frame, Mpps, and the drops
 * the filter must have made (the run script checks them against the
 * filter's own counters).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <net/if.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "camfence.h"
#include "cfbench.h"
#include "bench.skel.h"
#include "camfence.skel.h"

#define MAX_CASES 16

/* One measurement: a family and the set its destinations come from. */
struct pps_case {
	int family;
	const char *set;
};

struct pps {
	const char *dir, *gen_ns, *gen_dev, *dut_ns, *dut_dev, *xdp;
	const char *image;	/* --xdp camfence: the image to install */
	struct camfence *cf;
	uint8_t smac[6], dmac[6];
	struct pps_case cases[MAX_CASES];
	int n_cases;
	int family; /* of the case being run */
	unsigned ifindex; /* of the generator's veth */
	uint32_t frames, warmup, ents;
	struct bench_data data;
	struct bench_set s;
	struct bench_env env;
	struct bpf_link *link;
	uint8_t frame[FRAME_LEN];
	uint64_t drops_per_cycle; /* drops in one pass over the entries */
	uint64_t *drop_prefix; /* drops among the first k entries */
};

uint16_t ip_csum(const void *hdr, size_t len)
{
	const uint16_t *p = hdr;
	uint32_t sum = 0;

	for (; len > 1; len -= 2)
		sum += *p++;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/*
 * Ethernet, then IPv4 or IPv6 from a camera's address, then UDP; the
 * destination is left zero (IPv4 checksum computed over it).
 */
void frame_build(uint8_t frame[FRAME_LEN], int family, const uint8_t smac[6],
		 const uint8_t dmac[6])
{
	struct ethhdr *eth = (struct ethhdr *)frame;
	struct iphdr *iph = (struct iphdr *)(eth + 1);
	struct ipv6hdr *ip6h = (struct ipv6hdr *)(eth + 1);
	struct udphdr *udp;

	memset(frame, 0, FRAME_LEN);
	memcpy(eth->h_dest, dmac, 6);
	memcpy(eth->h_source, smac, 6);
	if (family == 4) {
		eth->h_proto = htons(ETH_P_IP);
		iph->version = 4;
		iph->ihl = 5;
		iph->tot_len = htons(FRAME_LEN - ETH_HLEN);
		iph->frag_off = htons(0x4000);
		iph->ttl = 64;
		iph->protocol = IPPROTO_UDP;
		inet_pton(AF_INET, "192.168.77.10", &iph->saddr);
		udp = (struct udphdr *)(iph + 1);
	} else {
		eth->h_proto = htons(ETH_P_IPV6);
		ip6h->version = 6;
		ip6h->payload_len = htons(FRAME_LEN - ETH_HLEN - sizeof(*ip6h));
		ip6h->nexthdr = IPPROTO_UDP;
		ip6h->hop_limit = 64;
		inet_pton(AF_INET6, "fd00:77::10", &ip6h->saddr);
		udp = (struct udphdr *)(ip6h + 1);
	}
	udp->source = htons(40000);
	udp->dest = htons(554);
	udp->len = htons(FRAME_LEN - ((uint8_t *)udp - frame));
	if (family == 4)
		iph->check = ip_csum(iph, sizeof(*iph));
}

/* The first `ents` addresses of the set, with checksums and verdicts. */
static int gen_fill(struct pps *p)
{
	int fd = bpf_map__fd(p->env.skel->maps.gen_addrs);
	struct iphdr ip = *(struct iphdr *)(p->frame + ETH_HLEN);
	size_t alen = p->family == 4 ? 4 : 16;
	struct gen_ent e;
	uint32_t k;

	free(p->drop_prefix);
	p->drop_prefix = calloc(p->ents + 1, sizeof(*p->drop_prefix));
	if (!p->drop_prefix)
		return -ENOMEM;
	for (k = 0; k < p->ents; k++) {
		memset(&e, 0, sizeof(e));
		memcpy(e.dst, p->s.addr + (size_t)k * alen, alen);
		e.drop = verdict_of(&p->data, p->s.class[k]) == CF_VERDICT_DROP;
		ip.daddr = e.dst[0];
		ip.check = 0;
		e.csum = ip_csum(&ip, sizeof(ip));
		p->drop_prefix[k + 1] = p->drop_prefix[k] + e.drop;
		if (bpf_map_update_elem(fd, &k, &e, BPF_ANY))
			return -errno;
	}
	p->drops_per_cycle = p->drop_prefix[p->ents];
	return 0;
}

/* Drops among the first `frames` frames the generator sends. */
static uint64_t drops_in(const struct pps *p, uint64_t frames)
{
	return frames / p->ents * p->drops_per_cycle +
	       p->drop_prefix[frames % p->ents];
}

static int netns_enter(const char *name)
{
	char path[256];
	int fd, err = 0;

	snprintf(path, sizeof(path), "/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWNET))
		err = -errno;
	if (fd >= 0)
		close(fd);
	if (err)
		pr_err("network namespace %s: %s", name, strerror(-err));
	return err;
}

/*
 * camfence's own cf_xdp_ingress with an image of our choosing (a layout
 * prototype), loaded from its skeleton, never pinned.
 */
static int cf_load(struct pps *p, struct bpf_program **prog)
{
	struct image_shape sh;
	struct bpf_map *inner;
	uint32_t *w = NULL;
	size_t len;
	int err;

	p->cf = camfence__open();
	inner = p->cf ? bpf_map__inner_map(p->cf->maps.cf_policy) : NULL;
	if (!inner)
		return -ENOENT;
	sh = (struct image_shape){ bpf_map__type(inner),
				   bpf_map__map_flags(inner),
				   bpf_map__key_size(inner),
				   bpf_map__value_size(inner),
				   bpf_map__max_entries(inner) };
	err = camfence__load(p->cf);
	err = err ?: file_read(p->dir, p->image, (void **)&w, &len);
	err = err ?: image_put(bpf_map__fd(p->cf->maps.cf_policy), &sh, w,
			       len / 4);
	free(w);
	*prog = p->cf->progs.cf_xdp_ingress;
	return err;
}

/* An XDP program on the peer, through a link that dies with us. */
static int xdp_attach(struct pps *p)
{
	struct bpf_program *prog = !strcmp(p->xdp, "bare") ?
					   p->env.skel->progs.bare_xdp :
					   p->env.skel->progs.lpm_xdp;
	unsigned ifindex;
	int err;

	if (!strcmp(p->xdp, "camfence")) {
		err = cf_load(p, &prog);
		if (err) {
			pr_err("camfence with %s: %s", p->image, strerror(-err));
			return err;
		}
	}

	err = netns_enter(p->dut_ns);
	if (err)
		return err;
	ifindex = if_nametoindex(p->dut_dev);
	if (!ifindex) {
		pr_err("%s in %s: %s", p->dut_dev, p->dut_ns, strerror(errno));
		return -ENODEV;
	}
	p->link = bpf_program__attach_xdp(prog, ifindex);
	if (!p->link) {
		err = -errno;
		pr_err("attach %s to %s: %s", p->xdp, p->dut_dev,
		       strerror(-err));
	}
	return err;
}

/* `frames` live frames; their average cost in ns (the kernel's timer). */
static int gen_run(struct pps *p, unsigned ifindex, uint32_t frames,
		   uint32_t *ns)
{
	struct xdp_md ctx = { .data_end = FRAME_LEN,
			      .ingress_ifindex = ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = p->frame,
		    .data_size_in = FRAME_LEN, .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx), .repeat = frames,
		    .flags = BPF_F_TEST_XDP_LIVE_FRAMES);

	if (!frames)
		return 0;
	if (bpf_prog_test_run_opts(bpf_program__fd(p->env.skel->progs.gen_xdp),
				   &o))
		return -errno;
	*ns = o.duration;
	return 0;
}

static int gen_enter(struct pps *p)
{
	int err = netns_enter(p->gen_ns);

	if (err)
		return err;
	p->ifindex = if_nametoindex(p->gen_dev);
	if (!p->ifindex) {
		pr_err("%s in %s: %s", p->gen_dev, p->gen_ns, strerror(errno));
		return -ENODEV;
	}
	return 0;
}

/* The set's destinations into the generator, then warm-up and run. */
static int case_run(struct pps *p, const struct pps_case *c)
{
	char file[64];
	uint32_t ns = 0;
	double t0, ms;
	int err;

	set_free(&p->s);
	snprintf(file, sizeof(file), "set-%s.bin", c->set);
	err = set_read(p->dir, file, &p->s);
	if (!err && (p->s.family != c->family || p->s.n < p->ents)) {
		pr_err("set %s: family %d, %u addresses", c->set, p->s.family,
		       p->s.n);
		err = -EINVAL;
	}
	p->family = c->family;
	frame_build(p->frame, p->family, p->smac, p->dmac);
	err = err ?: gen_fill(p);
	if (err)
		return err;
	p->env.skel->bss->gen_next = 0;
	p->env.skel->bss->gen_mask = p->ents - 1;
	p->env.skel->bss->gen_family = p->family;
	err = gen_run(p, p->ifindex, p->warmup, &ns);
	t0 = now_ms();
	err = err ?: gen_run(p, p->ifindex, p->frames, &ns);
	ms = now_ms() - t0;
	if (err) {
		pr_err("live frames: %s", strerror(-err));
		return err;
	}
	printf("{\"family\": %d, \"set\": \"%s\", \"xdp\": \"%s\", "
	       "\"frames\": %u, \"warmup\": %u, \"ns_per_frame\": %u, "
	       "\"wall_ms\": %.1f, \"mpps\": %.3f, \"drops_expected\": %llu, "
	       "\"drop_share\": %.4f}\n",
	       p->family, c->set, p->xdp ? p->xdp : "none", p->frames,
	       p->warmup, ns, ms, ns ? 1e3 / ns : 0,
	       (unsigned long long)drops_in(p, (uint64_t)p->warmup + p->frames),
	       (double)p->drops_per_cycle / p->ents);
	fflush(stdout);
	return 0;
}

static int parse_mac(const char *opt, const char *s, uint8_t mac[6])
{
	if (sscanf(s, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &mac[0], &mac[1],
		   &mac[2], &mac[3], &mac[4], &mac[5]) == 6)
		return 0;
	pr_err("%s: '%s' is not a MAC address", opt, s);
	return -EINVAL;
}

static int pps_opt(struct pps *p, int c)
{
	uint32_t v;

	switch (c) {
	case 'f':
		return parse_u32("--frames", optarg, &p->frames);
	case 'w':
		return parse_u32("--warmup", optarg, &p->warmup);
	case 'e':
		return parse_u32("--ents", optarg, &p->ents);
	case 'S':
		return parse_mac("--smac", optarg, p->smac);
	case 'D':
		return parse_mac("--dmac", optarg, p->dmac);
	case 'g':
		p->gen_ns = optarg;
		return 0;
	case 'G':
		p->gen_dev = optarg;
		return 0;
	case 'u':
		p->dut_ns = optarg;
		return 0;
	case 'U':
		p->dut_dev = optarg;
		return 0;
	case 'x':
		p->xdp = optarg;
		return 0;
	case 'i':
		p->image = optarg;
		return 0;
	case 'c':
		if (p->n_cases == MAX_CASES || sscanf(optarg, "%u:", &v) != 1 ||
		    (v != 4 && v != 6) || !strchr(optarg, ':')[1]) {
			pr_err("--case '%s': FAMILY:SET, at most %d", optarg,
			       MAX_CASES);
			return -EINVAL;
		}
		p->cases[p->n_cases].family = (int)v;
		p->cases[p->n_cases++].set = strchr(optarg, ':') + 1;
		return 0;
	}
	return -EINVAL;
}

static int pps_args(int argc, char **argv, struct pps *p)
{
	static const struct option opts[] = {
		{ "case", required_argument, NULL, 'c' },
		{ "frames", required_argument, NULL, 'f' },
		{ "warmup", required_argument, NULL, 'w' },
		{ "ents", required_argument, NULL, 'e' },
		{ "gen-ns", required_argument, NULL, 'g' },
		{ "gen-dev", required_argument, NULL, 'G' },
		{ "dut-ns", required_argument, NULL, 'u' },
		{ "dut-dev", required_argument, NULL, 'U' },
		{ "xdp", required_argument, NULL, 'x' },
		{ "image", required_argument, NULL, 'i' },
		{ "smac", required_argument, NULL, 'S' },
		{ "dmac", required_argument, NULL, 'D' },
		{},
	};
	int c;

	p->frames = 1u << 22;
	p->warmup = 1u << 16;
	p->ents = 1u << 16;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1)
		if (pps_opt(p, c))
			return -EINVAL;
	if (argc - optind == 1 && p->n_cases && p->gen_ns && p->gen_dev &&
	    p->ents && !(p->ents & (p->ents - 1)) &&
	    (!p->xdp ||
	     ((!strcmp(p->xdp, "bare") || !strcmp(p->xdp, "lpm") ||
	       (!strcmp(p->xdp, "camfence") && p->image)) &&
	      p->dut_ns && p->dut_dev))) {
		p->dir = argv[optind];
		return 0;
	}
	pr_err("usage: cfbench pps DIR --case 4|6:SET... --gen-ns NS --gen-dev DEV\n"
	       "  --smac MAC --dmac MAC [--frames N] [--warmup N] [--ents POW2]\n"
	       "  [--xdp bare|lpm|camfence --dut-ns NS --dut-dev DEV] [--image FILE]");
	return -EINVAL;
}

int cmd_pps(int argc, char **argv)
{
	struct env_opts eo = {};
	struct pps *p = calloc(1, sizeof(*p));
	int i, err;

	if (!p)
		return -ENOMEM;
	err = pps_args(argc, argv, p) ?: data_read(p->dir, NULL, &p->data);
	if (err)
		goto out;
	eo.gen_ents = p->ents;
	eo.lpm = p->xdp && !strcmp(p->xdp, "lpm");
	err = env_open(&p->env, &p->data, &eo);
	err = err ?: (p->xdp ? xdp_attach(p) : 0);
	err = err ?: gen_enter(p);
	for (i = 0; i < p->n_cases && !err; i++)
		err = case_run(p, &p->cases[i]);
out:
	bpf_link__destroy(p->link);
	camfence__destroy(p->cf);
	env_close(&p->env);
	set_free(&p->s);
	data_free(&p->data);
	free(p->drop_prefix);
	free(p);
	return err;
}
