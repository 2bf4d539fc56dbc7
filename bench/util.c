// SPDX-License-Identifier: GPL-2.0-only
/*
 * util.c - files of a work directory, clocks, kernel memory counters.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <bpf/bpf.h>

#include "camfence.h"
#include "cfbench.h"

void pr_err(const char *fmt, ...)
{
	va_list ap;

	fputs("cfbench: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void join(char *buf, size_t len, const char *dir, const char *name)
{
	snprintf(buf, len, "%s/%s", dir, name);
}

int file_write(const char *dir, const char *name, const void *buf, size_t len)
{
	char path[4096];
	FILE *f;
	int err = 0;

	join(path, sizeof(path), dir, name);
	f = fopen(path, "we");
	if (!f) {
		err = -errno;
		goto out;
	}
	if (fwrite(buf, 1, len, f) != len)
		err = -EIO;
	if (fclose(f) && !err)
		err = -errno;
out:
	if (err)
		pr_err("%s: %s", path, strerror(-err));
	return err;
}

int file_read(const char *dir, const char *name, void **buf, size_t *len)
{
	char path[4096];
	struct stat st;
	void *p = NULL;
	int fd, err = 0;

	join(path, sizeof(path), dir, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		err = -errno;
		goto out;
	}
	p = malloc(st.st_size ? st.st_size : 1);
	if (!p) {
		err = -ENOMEM;
		goto out;
	}
	if (read(fd, p, st.st_size) != st.st_size) {
		err = -EIO;
		free(p);
		goto out;
	}
	*buf = p;
	*len = st.st_size;
out:
	if (fd >= 0)
		close(fd);
	if (err)
		pr_err("%s: %s", path, strerror(-err));
	return err;
}

int set_read(const char *dir, const char *name, struct bench_set *s)
{
	const struct set_hdr *h;
	size_t alen;
	int err;

	memset(s, 0, sizeof(*s));
	err = file_read(dir, name, &s->buf, &s->len);
	if (err)
		return err;
	h = s->buf;
	alen = h->family == 4 ? 4 : 16;
	if (s->len < sizeof(*h) || h->magic != SET_MAGIC ||
	    (h->family != 4 && h->family != 6) || !h->n ||
	    (h->n & (h->n - 1)) ||
	    s->len != sizeof(*h) + (size_t)h->n * (alen + 4)) {
		pr_err("%s/%s: not an address set", dir, name);
		set_free(s);
		return -EINVAL;
	}
	s->family = h->family;
	s->n = h->n;
	s->addr = (const uint8_t *)(h + 1);
	s->class = (const uint32_t *)(s->addr + (size_t)h->n * alen);
	return 0;
}

void set_free(struct bench_set *s)
{
	free(s->buf);
	memset(s, 0, sizeof(*s));
}

int data_read(const char *dir, const char *image, struct bench_data *d)
{
	size_t len;
	int err;

	memset(d, 0, sizeof(*d));
	err = file_read(dir, image ? image : "image.bin", (void **)&d->image,
			&len);
	d->image_words = len / 4;
	err = err ?: file_read(dir, "classes.bin", (void **)&d->cw, &len);
	d->n_classes = len / 4;
	err = err ?: file_read(dir, "lpm4.bin", (void **)&d->lpm4, &len);
	d->n_lpm4 = len / sizeof(*d->lpm4);
	err = err ?: file_read(dir, "lpm6.bin", (void **)&d->lpm6, &len);
	d->n_lpm6 = len / sizeof(*d->lpm6);
	if (!err && (d->image_words < CF_NODES_OFF || !d->n_classes ||
		     d->n_classes > CF_CLASS_MAX)) {
		pr_err("%s: broken work directory", dir);
		err = -EINVAL;
	}
	if (err)
		data_free(d);
	return err;
}

void data_free(struct bench_data *d)
{
	free(d->image);
	free(d->cw);
	free(d->lpm4);
	free(d->lpm6);
	memset(d, 0, sizeof(*d));
}

int verdict_of(const struct bench_data *d, uint32_t class)
{
	return class < d->n_classes ? (int)CF_CLASS_VERDICT(d->cw[class]) :
				      CF_VERDICT_PASS;
}

int parse_u32(const char *opt, const char *s, uint32_t *v)
{
	char *end;
	unsigned long x;

	errno = 0;
	x = strtoul(s, &end, 0);
	if (errno || end == s || *end || x > UINT32_MAX) {
		pr_err("%s: '%s' is not a number", opt, s);
		return -EINVAL;
	}
	*v = (uint32_t)x;
	return 0;
}

/* What the kernel charges a BPF map, from /proc/self/fdinfo. */
int fdinfo_memlock(int fd, uint64_t *bytes)
{
	char path[64], line[256];
	unsigned long long v;
	FILE *f;
	int err = -ENOENT;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "memlock: %llu", &v) == 1) {
			*bytes = v;
			err = 0;
		}
	fclose(f);
	return err;
}

uint64_t kmem_now(void)
{
	static const char *const keys[] = { "SUnreclaim:", "VmallocUsed:",
					    "Percpu:" };
	char line[256], key[64];
	unsigned long long kb, sum = 0;
	FILE *f = fopen("/proc/meminfo", "re");
	size_t i;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%63s %llu", key, &kb) != 2)
			continue;
		for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			if (!strcmp(key, keys[i]))
				sum += kb;
	}
	fclose(f);
	return sum * 1024;
}

/*
 * A new image map shaped like the datapath's template, filled through
 * mmap with `words` words, frozen and installed in slot 0 of outer_fd, as
 * loader/image.c does it.
 */
int image_put(int outer_fd, const struct image_shape *sh, const uint32_t *w,
	      size_t words)
{
	LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = sh->flags);
	size_t len = (size_t)sh->max_entries * sh->value_size;
	uint32_t key = 0;
	void *p;
	int fd, err = 0;

	if (words * 4 > len)
		return -E2BIG;
	fd = bpf_map_create(sh->type, "cfb_image", sh->key_size, sh->value_size,
			    sh->max_entries, &o);
	if (fd < 0)
		return -errno;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		err = -errno;
		goto out;
	}
	memcpy(p, w, words * 4);
	munmap(p, len);
	if (bpf_map_freeze(fd) ||
	    bpf_map_update_elem(outer_fd, &key, &fd, BPF_ANY))
		err = -errno;
out:
	close(fd);
	return err;
}
