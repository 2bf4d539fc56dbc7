/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * cfbench.h - the driver of `make bench` (see bench/README.md).
 *
 * `cfbench prep` compiles the policy once and leaves everything the other
 * commands need in a work directory, so every measurement in a run uses
 * the same ranges, the same image and the same addresses:
 *
 *   image.bin          the camfence image (words in use)
 *   image-proto.bin    the same with a prototype layout (--proto-*-strides)
 *   classes.bin        the image's class words, one per class
 *   lpm4.bin lpm6.bin  the non-default compiled ranges as prefixes
 *   set-NAME.bin       an address set with each address's expected class
 *   nft.conf           the compiled DROP ranges as nftables interval sets
 *   ipset.restore      the same as ipset hash:net sets, for restore + swap
 *   prep.json          counts and timings
 */
#ifndef CF_BENCH_H
#define CF_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "addr.h"
#include "bench_abi.h"

#define SET_MAGIC 0x43464253u /* "CFBS" */

struct set_hdr {
	uint32_t magic;
	uint32_t family; /* 4 or 6 */
	uint32_t n; /* addresses; a power of two */
	uint32_t pad;
};

/* An address set: n addresses (4 or 16 bytes, network order), classes. */
struct bench_set {
	int family;
	uint32_t n;
	const uint8_t *addr;
	const uint32_t *class;
	void *buf;
	size_t len;
};

struct lpm_ent4 {
	struct lpm_v4_key key;
	uint32_t class;
};

struct lpm_ent6 {
	struct lpm_v6_key key;
	uint32_t class;
};

/* A work directory's data, read back. */
struct bench_data {
	uint32_t *image; /* words in use */
	size_t image_words;
	uint32_t *cw; /* class words */
	size_t n_classes;
	struct lpm_ent4 *lpm4;
	size_t n_lpm4;
	struct lpm_ent6 *lpm6;
	size_t n_lpm6;
};

/* util.c */
void pr_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
double now_ms(void);
int file_write(const char *dir, const char *name, const void *buf, size_t len);
int file_read(const char *dir, const char *name, void **buf, size_t *len);
int set_read(const char *dir, const char *name, struct bench_set *s);
void set_free(struct bench_set *s);
/* image: a file of dir other than image.bin, or NULL */
int data_read(const char *dir, const char *image, struct bench_data *d);
void data_free(struct bench_data *d);
int verdict_of(const struct bench_data *d, uint32_t class);
int parse_u32(const char *opt, const char *s, uint32_t *v);
int fdinfo_memlock(int fd, uint64_t *bytes);
/* Kernel memory now, in bytes: SUnreclaim + VmallocUsed + Percpu. */
uint64_t kmem_now(void);

struct image_shape;
int image_put(int outer_fd, const struct image_shape *sh, const uint32_t *w,
	      size_t words);

/* Splitmix64: reproducible addresses from a seed. */
static inline uint64_t rnd_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* bpf.c: the bench skeleton with the image and LPM tries in place. */
struct bench;

/* An image map as the datapath's template declares it. */
struct image_shape {
	uint32_t type;
	uint32_t flags;
	uint32_t key_size;
	uint32_t value_size;
	uint32_t max_entries;
};

struct bench_env {
	struct bench *skel;
	struct image_shape shape;
	int img_fd;
	size_t img_words; /* capacity of the image map */
	uint64_t img_memlock;
	uint64_t lpm_memlock[2];
	uint64_t lpm_kmem; /* kernel memory the tries took */
	double lpm_load_ms;
	bool flat_ok; /* the prototype's flat copy holds the image */
	bool img2_ok; /* a second image is installed (env_opts.image2) */
	bool flat2_ok;
};

struct env_opts {
	uint32_t addr_elems; /* bench_addrs elements (0: 1) */
	uint32_t gen_ents; /* gen_addrs entries (0: 1) */
	bool lpm; /* fill the LPM tries */
	const uint32_t *image2; /* a second image (prototype layout) */
	size_t image2_words;
};

int env_open(struct bench_env *e, const struct bench_data *d,
	     const struct env_opts *o);
void env_close(struct bench_env *e);

/* pps.c: the generator's frames, FRAME_LEN bytes. */
#define FRAME_LEN 64
uint16_t ip_csum(const void *hdr, size_t len);
void frame_build(uint8_t frame[FRAME_LEN], int family, const uint8_t smac[6],
		 const uint8_t dmac[6]);

/* Subcommands. */
int cmd_prep(int argc, char **argv);
int cmd_pick_asns(int argc, char **argv);
int cmd_lookup(int argc, char **argv);
int cmd_pps(int argc, char **argv);
int cmd_datapath(int argc, char **argv);

#endif /* CF_BENCH_H */
