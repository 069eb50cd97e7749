/* GGUF v3 reader and writer; see gguf.h and ggml docs/gguf.md for the format. */
#include "engine/errmsg.h"
#include "engine/gguf.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* Byte size of each scalar value type; 0 for STRING and ARRAY (variable). */
static const size_t gguf_scalar_size[GGUF_TYPE_COUNT] = {
	[GGUF_TYPE_UINT8] = 1, [GGUF_TYPE_INT8] = 1,
	[GGUF_TYPE_UINT16] = 2, [GGUF_TYPE_INT16] = 2,
	[GGUF_TYPE_UINT32] = 4, [GGUF_TYPE_INT32] = 4,
	[GGUF_TYPE_FLOAT32] = 4, [GGUF_TYPE_BOOL] = 1,
	[GGUF_TYPE_STRING] = 0, [GGUF_TYPE_ARRAY] = 0,
	[GGUF_TYPE_UINT64] = 8, [GGUF_TYPE_INT64] = 8, [GGUF_TYPE_FLOAT64] = 8,
};

/* Keys and names longer than this are refused: real files use < 100 bytes. */
#define GGUF_MAX_NAME 4096

struct gguf_cursor {
	const uint8_t *p;
	size_t size;
	size_t pos;
};

static int gguf_cursor_take(struct gguf_cursor *c, size_t n, const uint8_t **out)
{
	if (n > c->size - c->pos)
		return -1;
	*out = c->p + c->pos;
	c->pos += n;
	return 0;
}

static int gguf_cursor_u32(struct gguf_cursor *c, uint32_t *v)
{
	const uint8_t *b;
	if (gguf_cursor_take(c, 4, &b) < 0)
		return -1;
	*v = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
	return 0;
}

static int gguf_cursor_u64(struct gguf_cursor *c, uint64_t *v)
{
	uint32_t lo, hi;
	if (gguf_cursor_u32(c, &lo) < 0 || gguf_cursor_u32(c, &hi) < 0)
		return -1;
	*v = (uint64_t)hi << 32 | lo;
	return 0;
}

/* A GGUF string: u64 length + bytes.  Returns a NUL-terminated copy. */
static char *gguf_cursor_name(struct gguf_cursor *c)
{
	uint64_t len;
	const uint8_t *b;
	if (gguf_cursor_u64(c, &len) < 0 || len == 0 || len > GGUF_MAX_NAME)
		return NULL;
	if (gguf_cursor_take(c, (size_t)len, &b) < 0)
		return NULL;
	if (memchr(b, 0, (size_t)len))
		return NULL;
	char *s = malloc((size_t)len + 1);
	if (!s)
		return NULL;
	memcpy(s, b, (size_t)len);
	s[len] = 0;
	return s;
}

/* Skip one string value; checks its length against what is left. */
static int gguf_cursor_skip_str(struct gguf_cursor *c)
{
	uint64_t len;
	const uint8_t *b;
	if (gguf_cursor_u64(c, &len) < 0 || len > c->size - c->pos)
		return -1;
	return gguf_cursor_take(c, (size_t)len, &b);
}

static int gguf_parse_kv(struct gguf_cursor *c, struct gguf_kv *kv, char *err, size_t errlen, uint64_t idx)
{
	uint32_t t;
	kv->key = gguf_cursor_name(c);
	if (!kv->key) {
		engine_errf(err, errlen, "kv %llu: bad or truncated key", (unsigned long long)idx);
		return -1;
	}
	if (gguf_cursor_u32(c, &t) < 0 || t >= GGUF_TYPE_COUNT) {
		engine_errf(err, errlen, "kv '%s': bad or truncated value type", kv->key);
		return -1;
	}
	kv->type = (enum gguf_type)t;
	kv->n = 1;
	if (kv->type == GGUF_TYPE_ARRAY) {
		uint32_t et;
		uint64_t n;
		if (gguf_cursor_u32(c, &et) < 0 || et >= GGUF_TYPE_COUNT || et == GGUF_TYPE_ARRAY) {
			engine_errf(err, errlen, "kv '%s': bad array element type", kv->key);
			return -1;
		}
		if (gguf_cursor_u64(c, &n) < 0) {
			engine_errf(err, errlen, "kv '%s': truncated array count", kv->key);
			return -1;
		}
		kv->arr_type = (enum gguf_type)et;
		kv->n = n;
		kv->raw = c->p + c->pos;
		size_t start = c->pos;
		if (et == GGUF_TYPE_STRING) {
			/* every string takes at least its 8-byte length */
			if (n > (c->size - c->pos) / 8) {
				engine_errf(err, errlen, "kv '%s': array count %llu exceeds file size", kv->key, (unsigned long long)n);
				return -1;
			}
			kv->str_off = malloc((size_t)(n ? n : 1) * sizeof *kv->str_off);
			if (!kv->str_off) {
				engine_errf(err, errlen, "kv '%s': out of memory", kv->key);
				return -1;
			}
			for (uint64_t i = 0; i < n; i++) {
				kv->str_off[i] = c->pos - start;
				if (gguf_cursor_skip_str(c) < 0) {
					engine_errf(err, errlen, "kv '%s': string %llu truncated", kv->key, (unsigned long long)i);
					return -1;
				}
			}
		} else {
			size_t es = gguf_scalar_size[et];
			const uint8_t *b;
			if (n > (c->size - c->pos) / es || gguf_cursor_take(c, (size_t)n * es, &b) < 0) {
				engine_errf(err, errlen, "kv '%s': array of %llu exceeds file size", kv->key, (unsigned long long)n);
				return -1;
			}
		}
		kv->raw_len = c->pos - start;
		return 0;
	}
	kv->raw = c->p + c->pos;
	size_t start = c->pos;
	if (kv->type == GGUF_TYPE_STRING) {
		if (gguf_cursor_skip_str(c) < 0) {
			engine_errf(err, errlen, "kv '%s': string truncated", kv->key);
			return -1;
		}
	} else {
		const uint8_t *b;
		if (gguf_cursor_take(c, gguf_scalar_size[kv->type], &b) < 0) {
			engine_errf(err, errlen, "kv '%s': value truncated", kv->key);
			return -1;
		}
	}
	kv->raw_len = c->pos - start;
	return 0;
}

static int gguf_parse_tensor(struct gguf_cursor *c, struct gguf_tensor *t, char *err, size_t errlen, uint64_t idx)
{
	t->name = gguf_cursor_name(c);
	if (!t->name) {
		engine_errf(err, errlen, "tensor %llu: bad or truncated name", (unsigned long long)idx);
		return -1;
	}
	if (gguf_cursor_u32(c, &t->n_dims) < 0 || t->n_dims < 1 || t->n_dims > GGUF_MAX_DIMS) {
		engine_errf(err, errlen, "tensor '%s': bad number of dimensions", t->name);
		return -1;
	}
	for (int d = 0; d < GGUF_MAX_DIMS; d++)
		t->ne[d] = 1;
	for (uint32_t d = 0; d < t->n_dims; d++) {
		uint64_t v;
		if (gguf_cursor_u64(c, &v) < 0 || v == 0 || v > (uint64_t)INT64_MAX) {
			engine_errf(err, errlen, "tensor '%s': bad dimension %u", t->name, d);
			return -1;
		}
		t->ne[d] = (int64_t)v;
	}
	if (gguf_cursor_u32(c, &t->type) < 0 || gguf_type_block_size(t->type) == 0) {
		engine_errf(err, errlen, "tensor '%s': unsupported or truncated type", t->name);
		return -1;
	}
	if (gguf_cursor_u64(c, &t->offset) < 0) {
		engine_errf(err, errlen, "tensor '%s': truncated offset", t->name);
		return -1;
	}
	/* element count and byte size, overflow-checked */
	uint64_t nel = 1;
	for (int d = 0; d < GGUF_MAX_DIMS; d++) {
		if (__builtin_mul_overflow(nel, (uint64_t)t->ne[d], &nel)) {
			engine_errf(err, errlen, "tensor '%s': element count overflows", t->name);
			return -1;
		}
	}
	uint64_t bv = gguf_type_block_values(t->type), bs = gguf_type_block_size(t->type), sz;
	if ((uint64_t)t->ne[0] % bv) {
		engine_errf(err, errlen, "tensor '%s': row of %lld is not a multiple of the %s block (%llu)",
			t->name, (long long)t->ne[0], gguf_type_name(t->type), (unsigned long long)bv);
		return -1;
	}
	if (__builtin_mul_overflow(nel / bv, bs, &sz) || sz > SIZE_MAX) {
		engine_errf(err, errlen, "tensor '%s': size overflows", t->name);
		return -1;
	}
	t->size = (size_t)sz;
	return 0;
}

static int gguf_parse(struct gguf_file *g, char *err, size_t errlen)
{
	struct gguf_cursor c = { g->base, g->size, 0 };
	const uint8_t *magic;
	uint64_t n_tensors, n_kv;

	if (gguf_cursor_take(&c, 4, &magic) < 0 || memcmp(magic, "GGUF", 4) != 0) {
		engine_errf(err, errlen, "not a GGUF file (bad magic)");
		return -1;
	}
	if (gguf_cursor_u32(&c, &g->version) < 0 || g->version != 3) {
		engine_errf(err, errlen, "unsupported GGUF version %u (need 3)", g->version);
		return -1;
	}
	if (gguf_cursor_u64(&c, &n_tensors) < 0 || gguf_cursor_u64(&c, &n_kv) < 0) {
		engine_errf(err, errlen, "truncated header");
		return -1;
	}
	/* a KV takes >= 8+1+4+1 bytes, a tensor info >= 8+1+4+8+4+8 */
	if (n_kv > (g->size - c.pos) / 14 || n_tensors > (g->size - c.pos) / 33) {
		engine_errf(err, errlen, "header counts (%llu tensors, %llu kv) exceed file size",
			(unsigned long long)n_tensors, (unsigned long long)n_kv);
		return -1;
	}
	g->kv = calloc(n_kv ? n_kv : 1, sizeof *g->kv);
	g->tensors = calloc(n_tensors ? n_tensors : 1, sizeof *g->tensors);
	if (!g->kv || !g->tensors) {
		engine_errf(err, errlen, "out of memory");
		return -1;
	}
	for (uint64_t i = 0; i < n_kv; i++) {
		g->n_kv = i + 1;	/* so that gguf_close frees what was parsed */
		if (gguf_parse_kv(&c, &g->kv[i], err, errlen, i) < 0)
			return -1;
		for (uint64_t j = 0; j < i; j++)
			if (strcmp(g->kv[j].key, g->kv[i].key) == 0) {
				engine_errf(err, errlen, "duplicate key '%s'", g->kv[i].key);
				return -1;
			}
	}
	g->alignment = GGUF_DEFAULT_ALIGNMENT;
	int64_t ai = gguf_find_key(g, "general.alignment");
	if (ai >= 0) {
		uint32_t a;
		/* >= 8 keeps every tensor aligned for its element type */
		if (gguf_get_u32(g, "general.alignment", &a) < 0 || a < 8 || (a & (a - 1)) || a > 65536) {
			engine_errf(err, errlen, "general.alignment must be a power of two u32 between 8 and 65536");
			return -1;
		}
		g->alignment = a;
	}
	for (uint64_t i = 0; i < n_tensors; i++) {
		g->n_tensors = i + 1;
		if (gguf_parse_tensor(&c, &g->tensors[i], err, errlen, i) < 0)
			return -1;
	}
	size_t data_off = c.pos;
	size_t rem = data_off % g->alignment;
	if (rem && __builtin_add_overflow(data_off, g->alignment - rem, &data_off)) {
		engine_errf(err, errlen, "data offset overflows");
		return -1;
	}
	if (n_tensors && data_off > g->size) {
		engine_errf(err, errlen, "file truncated before tensor data");
		return -1;
	}
	g->data_offset = data_off;
	size_t data_size = g->size > data_off ? g->size - data_off : 0;
	for (uint64_t i = 0; i < n_tensors; i++) {
		struct gguf_tensor *t = &g->tensors[i];
		if (t->offset % g->alignment) {
			engine_errf(err, errlen, "tensor '%s': offset %llu not aligned to %u", t->name,
				(unsigned long long)t->offset, g->alignment);
			return -1;
		}
		if (t->offset > data_size || t->size > data_size - t->offset) {
			engine_errf(err, errlen, "tensor '%s': data [%llu, +%zu) beyond end of file (truncated?)",
				t->name, (unsigned long long)t->offset, t->size);
			return -1;
		}
		t->data = g->base + data_off + t->offset;
		for (uint64_t j = 0; j < i; j++)
			if (strcmp(g->tensors[j].name, t->name) == 0) {
				engine_errf(err, errlen, "duplicate tensor '%s'", t->name);
				return -1;
			}
	}
	return 0;
}

struct gguf_file *gguf_open_memory(const void *buf, size_t len, char *err, size_t errlen)
{
	struct gguf_file *g = calloc(1, sizeof *g);
	if (!g) {
		engine_errf(err, errlen, "out of memory");
		return NULL;
	}
	g->base = buf;
	g->size = len;
	if (gguf_parse(g, err, errlen) < 0) {
		gguf_close(g);
		return NULL;
	}
	return g;
}

/* Huge-page size on x86-64 (a PMD): the copy starts on such a boundary so
 * that transparent huge pages can back all of it. */
#define GGUF_COPY_ALIGN ((size_t)2 << 20)
/* Bytes per pread while copying: large reads, bounded syscalls. */
#define GGUF_COPY_CHUNK ((size_t)64 << 20)

/* Threads that read a copy at once (each a contiguous share). */
#define GGUF_COPY_THREADS 8

/* One thread's share [from, to) of the file; done: how far it got, err: errno. */
struct gguf_copy_part {
	int fd;
	uint8_t *base;
	size_t from, to, done;
	int err;
};

static void *gguf_copy_main(void *arg)
{
	struct gguf_copy_part *c = arg;
	for (c->done = c->from; c->done < c->to;) {
		size_t n = c->to - c->done > GGUF_COPY_CHUNK ? GGUF_COPY_CHUNK : c->to - c->done;
		ssize_t r = pread(c->fd, c->base + c->done, n, (off_t)c->done);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			c->err = errno;
		if (r <= 0)
			break;
		c->done += (size_t)r;
	}
	return NULL;
}

/* Anonymous memory for a copy of size bytes (size < SIZE_MAX - 2
 * GGUF_COPY_ALIGN), starting on a GGUF_COPY_ALIGN boundary with huge pages
 * requested; *alloc / *alloc_len: the mapping to unmap.  NULL with errno. */
static uint8_t *gguf_alloc_copy(size_t size, void **alloc, size_t *alloc_len)
{
	/* whole huge pages from an aligned start inside the mapping */
	size_t span = (size + GGUF_COPY_ALIGN - 1) / GGUF_COPY_ALIGN * GGUF_COPY_ALIGN;
	size_t len = span + GGUF_COPY_ALIGN;
	void *a = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (a == MAP_FAILED)
		return NULL;
	uint8_t *base = (uint8_t *)(((uintptr_t)a + GGUF_COPY_ALIGN - 1) & ~(uintptr_t)(GGUF_COPY_ALIGN - 1));
#ifdef MADV_HUGEPAGE
	/* advice only: without THP the copy still avoids faults while decoding */
	(void)madvise(base, span, MADV_HUGEPAGE);
#endif
	*alloc = a;
	*alloc_len = len;
	return base;
}

/* Read the whole file into anonymous memory aligned to GGUF_COPY_ALIGN
 * (huge pages requested), writable until gguf_seal.  *alloc / *alloc_len: the
 * mapping to unmap; returns the file's first byte or NULL. */
static uint8_t *gguf_read_copy(int fd, const char *path, size_t size, void **alloc, size_t *alloc_len, char *err,
	size_t errlen)
{
	if (size > SIZE_MAX - 2 * GGUF_COPY_ALIGN) {
		engine_errf(err, errlen, "%s: file too large to copy", path);
		return NULL;
	}
	void *a;
	size_t len;
	uint8_t *base = gguf_alloc_copy(size, &a, &len);
	if (!base) {
		engine_errf(err, errlen, "%s: no memory for a copy of %zu bytes: %s", path, size, strerror(errno));
		return NULL;
	}
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	/* the kernel zeroes each new page before the read fills it, and in a
	 * VM the first touch of guest memory also faults in the host: that,
	 * not the copy, is most of the time, and it runs on every core */
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int nt = ncpu < 1 ? 1 : ncpu > GGUF_COPY_THREADS ? GGUF_COPY_THREADS : (int)ncpu;
	if ((size_t)nt > size / GGUF_COPY_CHUNK + 1)
		nt = (int)(size / GGUF_COPY_CHUNK + 1);
	struct gguf_copy_part parts[GGUF_COPY_THREADS];
	pthread_t tids[GGUF_COPY_THREADS];
	size_t share = (size / (size_t)nt + GGUF_COPY_ALIGN - 1) / GGUF_COPY_ALIGN * GGUF_COPY_ALIGN;
	int started = 0;
	for (int i = 0; i < nt; i++) {
		size_t from = (size_t)i * share < size ? (size_t)i * share : size;
		size_t to = i == nt - 1 || from + share > size ? size : from + share;
		parts[i] = (struct gguf_copy_part){ fd, base, from, to, 0, 0 };
		if (i > 0 && pthread_create(&tids[i], NULL, gguf_copy_main, &parts[i]) == 0)
			started |= 1 << i;
	}
	gguf_copy_main(&parts[0]);
	for (int i = 1; i < nt; i++) {
		if (started & (1 << i))
			pthread_join(tids[i], NULL);
		else
			gguf_copy_main(&parts[i]);	/* no thread: read it here */
	}
	for (int i = 0; i < nt; i++)
		if (parts[i].err || parts[i].done < parts[i].to) {
			if (parts[i].err)
				engine_errf(err, errlen, "%s: read: %s", path, strerror(parts[i].err));
			else
				engine_errf(err, errlen, "%s: file shrank while being read (%zu of %zu bytes)", path,
					parts[i].done, size);
			munmap(a, len);
			return NULL;
		}
	/* read-only from gguf_seal on (the model repacks weights first) */
	*alloc = a;
	*alloc_len = len;
	return base;
}

/* A copy must leave room for everything else: the page cache of the file
 * being read, the KV cache, other processes. */
static int gguf_copy_fits(size_t size)
{
	long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
	if (pages <= 0 || psz <= 0)
		return 0;
	return (double)size <= (double)pages * (double)psz * GGUF_COPY_MAX_RAM_PCT / 100.0;
}

struct gguf_file *gguf_open_mode(const char *path, enum gguf_load mode, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		engine_errf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size <= 0) {
		engine_errf(err, errlen, "%s: not a regular non-empty file", path);
		close(fd);
		return NULL;
	}
	size_t size = (size_t)st.st_size;
	if (mode == GGUF_LOAD_AUTO)
		mode = gguf_copy_fits(size) ? GGUF_LOAD_COPY : GGUF_LOAD_MMAP;
	void *alloc = NULL;
	size_t alloc_len = 0;
	const uint8_t *m;
	if (mode == GGUF_LOAD_COPY) {
		m = gguf_read_copy(fd, path, size, &alloc, &alloc_len, err, errlen);
		close(fd);
		if (!m)
			return NULL;
	} else {
		void *mp = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
		close(fd);
		if (mp == MAP_FAILED) {
			engine_errf(err, errlen, "%s: mmap: %s", path, strerror(errno));
			return NULL;
		}
		m = mp;
	}
	/* the parser checks the very bytes the tensors will be read from */
	char e2[200] = "";
	struct gguf_file *g = gguf_open_memory(m, size, e2, sizeof e2);
	if (!g) {
		engine_errf(err, errlen, "%s: %s", path, e2);
		if (alloc)
			munmap(alloc, alloc_len);
		else
			munmap((void *)m, size);
		return NULL;
	}
	g->mapped = !alloc;
	g->copy = alloc;
	g->copy_len = alloc_len;
	return g;
}

struct gguf_file *gguf_open_memory_copy(const void *buf, size_t len, char *err, size_t errlen)
{
	void *alloc;
	size_t alloc_len;
	uint8_t *m = len > 0 && len < SIZE_MAX - 2 * GGUF_COPY_ALIGN ? gguf_alloc_copy(len, &alloc, &alloc_len) : NULL;
	if (!m) {
		engine_errf(err, errlen, "no memory for a copy of %zu bytes", len);
		return NULL;
	}
	memcpy(m, buf, len);
	struct gguf_file *g = gguf_open_memory(m, len, err, errlen);
	if (!g) {
		munmap(alloc, alloc_len);
		return NULL;
	}
	g->copy = alloc;
	g->copy_len = alloc_len;
	return g;
}

uint8_t *gguf_writable(struct gguf_file *g, const void *p)
{
	const uint8_t *b = p;
	if (!g->copy || g->sealed || b < g->base || b >= g->base + g->size)
		return NULL;
	return (uint8_t *)g->copy + (b - (const uint8_t *)g->copy);
}

void gguf_seal(struct gguf_file *g)
{
	if (g->copy && !g->sealed)
		(void)mprotect(g->copy, g->copy_len, PROT_READ);	/* weights are never written again */
	g->sealed = 1;
}

struct gguf_file *gguf_open(const char *path, char *err, size_t errlen)
{
	return gguf_open_mode(path, GGUF_LOAD_MMAP, err, errlen);
}

void gguf_close(struct gguf_file *g)
{
	if (!g)
		return;
	for (uint64_t i = 0; g->kv && i < g->n_kv; i++) {
		free((char *)g->kv[i].key);
		free(g->kv[i].str_off);
	}
	for (uint64_t i = 0; g->tensors && i < g->n_tensors; i++)
		free((char *)g->tensors[i].name);
	free(g->kv);
	free(g->tensors);
	if (g->mapped)
		munmap((void *)g->base, g->size);
	if (g->copy)
		munmap(g->copy, g->copy_len);
	free(g);
}

int64_t gguf_find_key(const struct gguf_file *g, const char *key)
{
	for (uint64_t i = 0; i < g->n_kv; i++)
		if (g->kv[i].key && strcmp(g->kv[i].key, key) == 0)
			return (int64_t)i;
	return -1;
}

const struct gguf_tensor *gguf_find_tensor(const struct gguf_file *g, const char *name)
{
	for (uint64_t i = 0; i < g->n_tensors; i++)
		if (g->tensors[i].name && strcmp(g->tensors[i].name, name) == 0)
			return &g->tensors[i];
	return NULL;
}

static uint64_t gguf_load_le(const uint8_t *b, size_t n)
{
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++)
		v |= (uint64_t)b[i] << (8 * i);
	return v;
}

/* Integer value of a scalar KV as a signed 128-bit-safe pair: returns -1 if
 * not an integer type. */
static int gguf_kv_int(const struct gguf_kv *kv, int64_t *s, uint64_t *u, int *is_neg)
{
	size_t n = gguf_scalar_size[kv->type];
	int is_signed;
	switch (kv->type) {
	case GGUF_TYPE_UINT8: case GGUF_TYPE_UINT16: case GGUF_TYPE_UINT32: case GGUF_TYPE_UINT64:
		is_signed = 0;
		break;
	case GGUF_TYPE_INT8: case GGUF_TYPE_INT16: case GGUF_TYPE_INT32: case GGUF_TYPE_INT64:
		is_signed = 1;
		break;
	default:
		return -1;
	}
	uint64_t v = gguf_load_le(kv->raw, n);
	*is_neg = 0;
	if (is_signed && n < 8 && (v >> (8 * n - 1)) & 1)
		v |= ~0ULL << (8 * n);	/* sign-extend */
	if (is_signed && (int64_t)v < 0) {
		*is_neg = 1;
		*s = (int64_t)v;
		*u = 0;
	} else {
		*u = v;
		*s = v > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)v;
	}
	return 0;
}

int gguf_get_u32(const struct gguf_file *g, const char *key, uint32_t *out)
{
	int64_t i = gguf_find_key(g, key), s;
	uint64_t u;
	int neg;
	if (i < 0 || gguf_kv_int(&g->kv[i], &s, &u, &neg) < 0 || neg || u > UINT32_MAX)
		return -1;
	*out = (uint32_t)u;
	return 0;
}

int gguf_get_i64(const struct gguf_file *g, const char *key, int64_t *out)
{
	int64_t i = gguf_find_key(g, key), s;
	uint64_t u;
	int neg;
	if (i < 0 || gguf_kv_int(&g->kv[i], &s, &u, &neg) < 0 || (!neg && u > (uint64_t)INT64_MAX))
		return -1;
	*out = s;
	return 0;
}

int gguf_get_f32(const struct gguf_file *g, const char *key, float *out)
{
	int64_t i = gguf_find_key(g, key);
	if (i < 0)
		return -1;
	const struct gguf_kv *kv = &g->kv[i];
	if (kv->type == GGUF_TYPE_FLOAT32) {
		uint32_t b = (uint32_t)gguf_load_le(kv->raw, 4);
		memcpy(out, &b, 4);
		return 0;
	}
	if (kv->type == GGUF_TYPE_FLOAT64) {
		uint64_t b = gguf_load_le(kv->raw, 8);
		double d;
		memcpy(&d, &b, 8);
		*out = (float)d;
		return 0;
	}
	return -1;
}

int gguf_get_bool(const struct gguf_file *g, const char *key, int *out)
{
	int64_t i = gguf_find_key(g, key);
	if (i < 0 || g->kv[i].type != GGUF_TYPE_BOOL)
		return -1;
	*out = g->kv[i].raw[0] != 0;
	return 0;
}

const char *gguf_get_str(const struct gguf_file *g, const char *key, size_t *len)
{
	int64_t i = gguf_find_key(g, key);
	if (i < 0 || g->kv[i].type != GGUF_TYPE_STRING)
		return NULL;
	*len = (size_t)gguf_load_le(g->kv[i].raw, 8);
	return (const char *)g->kv[i].raw + 8;
}

int gguf_get_arr_info(const struct gguf_file *g, const char *key, enum gguf_type elem_type, uint64_t *n)
{
	int64_t i = gguf_find_key(g, key);
	if (i < 0 || g->kv[i].type != GGUF_TYPE_ARRAY || g->kv[i].arr_type != elem_type)
		return -1;
	*n = g->kv[i].n;
	return 0;
}

const char *gguf_get_arr_str_at(const struct gguf_file *g, int64_t kv_index, uint64_t i, size_t *len)
{
	if (kv_index < 0 || (uint64_t)kv_index >= g->n_kv)
		return NULL;
	const struct gguf_kv *kv = &g->kv[kv_index];
	if (kv->type != GGUF_TYPE_ARRAY || kv->arr_type != GGUF_TYPE_STRING || i >= kv->n)
		return NULL;
	const uint8_t *p = kv->raw + kv->str_off[i];
	*len = (size_t)gguf_load_le(p, 8);
	return (const char *)p + 8;
}

const char *gguf_get_arr_str(const struct gguf_file *g, const char *key, uint64_t i, size_t *len)
{
	return gguf_get_arr_str_at(g, gguf_find_key(g, key), i, len);
}

static int gguf_get_arr_32(const struct gguf_file *g, const char *key, enum gguf_type t, void *out, uint64_t n)
{
	int64_t i = gguf_find_key(g, key);
	if (i < 0 || g->kv[i].type != GGUF_TYPE_ARRAY || g->kv[i].arr_type != t || g->kv[i].n != n)
		return -1;
	/* GGUF is little-endian, like every host we build for */
	memcpy(out, g->kv[i].raw, (size_t)n * 4);
	return 0;
}

int gguf_get_arr_f32(const struct gguf_file *g, const char *key, float *out, uint64_t n)
{
	return gguf_get_arr_32(g, key, GGUF_TYPE_FLOAT32, out, n);
}

int gguf_get_arr_i32(const struct gguf_file *g, const char *key, int32_t *out, uint64_t n)
{
	return gguf_get_arr_32(g, key, GGUF_TYPE_INT32, out, n);
}

/* ---- writer ---- */

struct gguf_writer_tensor {
	char *name;
	uint32_t type;
	uint32_t n_dims;
	int64_t ne[GGUF_MAX_DIMS];
	uint64_t offset;
	size_t size;
};

struct gguf_writer {
	uint8_t *kv;		/* serialized KV pairs */
	size_t kv_len, kv_cap;
	uint64_t n_kv;
	struct gguf_writer_tensor *t;
	size_t n_t, cap_t;
	int failed;		/* sticky allocation failure */
};

struct gguf_writer *gguf_writer_new(void)
{
	return calloc(1, sizeof(struct gguf_writer));
}

void gguf_writer_free(struct gguf_writer *w)
{
	if (!w)
		return;
	for (size_t i = 0; i < w->n_t; i++)
		free(w->t[i].name);
	free(w->t);
	free(w->kv);
	free(w);
}

static int gguf_writer_put(struct gguf_writer *w, const void *p, size_t n)
{
	if (w->failed)
		return -1;
	if (n > w->kv_cap - w->kv_len) {
		size_t cap = w->kv_cap ? w->kv_cap : 4096;
		while (cap - w->kv_len < n) {
			if (cap > SIZE_MAX / 2) {
				w->failed = 1;
				return -1;
			}
			cap *= 2;
		}
		uint8_t *nb = realloc(w->kv, cap);
		if (!nb) {
			w->failed = 1;
			return -1;
		}
		w->kv = nb;
		w->kv_cap = cap;
	}
	memcpy(w->kv + w->kv_len, p, n);
	w->kv_len += n;
	return 0;
}

static int gguf_writer_u32(struct gguf_writer *w, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
	return gguf_writer_put(w, b, 4);
}

static int gguf_writer_u64(struct gguf_writer *w, uint64_t v)
{
	return gguf_writer_u32(w, (uint32_t)v) | gguf_writer_u32(w, (uint32_t)(v >> 32));
}

static int gguf_writer_string(struct gguf_writer *w, const char *s, size_t len)
{
	return gguf_writer_u64(w, len) | gguf_writer_put(w, s, len);
}

static int gguf_writer_key(struct gguf_writer *w, const char *key, enum gguf_type t)
{
	w->n_kv++;
	return gguf_writer_string(w, key, strlen(key)) | gguf_writer_u32(w, (uint32_t)t);
}

int gguf_writer_add_u32(struct gguf_writer *w, const char *key, uint32_t v)
{
	return gguf_writer_key(w, key, GGUF_TYPE_UINT32) | gguf_writer_u32(w, v);
}

int gguf_writer_add_i32(struct gguf_writer *w, const char *key, int32_t v)
{
	return gguf_writer_key(w, key, GGUF_TYPE_INT32) | gguf_writer_u32(w, (uint32_t)v);
}

int gguf_writer_add_f32(struct gguf_writer *w, const char *key, float v)
{
	uint32_t b;
	memcpy(&b, &v, 4);
	return gguf_writer_key(w, key, GGUF_TYPE_FLOAT32) | gguf_writer_u32(w, b);
}

int gguf_writer_add_bool(struct gguf_writer *w, const char *key, int v)
{
	uint8_t b = v ? 1 : 0;
	return gguf_writer_key(w, key, GGUF_TYPE_BOOL) | gguf_writer_put(w, &b, 1);
}

int gguf_writer_add_str(struct gguf_writer *w, const char *key, const char *s, size_t len)
{
	return gguf_writer_key(w, key, GGUF_TYPE_STRING) | gguf_writer_string(w, s, len);
}

static int gguf_writer_arr_head(struct gguf_writer *w, const char *key, enum gguf_type et, uint64_t n)
{
	return gguf_writer_key(w, key, GGUF_TYPE_ARRAY) | gguf_writer_u32(w, (uint32_t)et) | gguf_writer_u64(w, n);
}

int gguf_writer_add_arr_str(struct gguf_writer *w, const char *key, const char *const *s, const size_t *len, uint64_t n)
{
	int r = gguf_writer_arr_head(w, key, GGUF_TYPE_STRING, n);
	for (uint64_t i = 0; i < n; i++)
		r |= gguf_writer_string(w, s[i], len ? len[i] : strlen(s[i]));
	return r ? -1 : 0;
}

int gguf_writer_add_arr_f32(struct gguf_writer *w, const char *key, const float *v, uint64_t n)
{
	if (n > SIZE_MAX / 4)
		return -1;
	return gguf_writer_arr_head(w, key, GGUF_TYPE_FLOAT32, n) | gguf_writer_put(w, v, (size_t)n * 4);
}

int gguf_writer_add_arr_i32(struct gguf_writer *w, const char *key, const int32_t *v, uint64_t n)
{
	if (n > SIZE_MAX / 4)
		return -1;
	return gguf_writer_arr_head(w, key, GGUF_TYPE_INT32, n) | gguf_writer_put(w, v, (size_t)n * 4);
}

int gguf_writer_add_kv(struct gguf_writer *w, const struct gguf_kv *kv)
{
	int r = gguf_writer_key(w, kv->key, kv->type);
	if (kv->type == GGUF_TYPE_ARRAY)
		r |= gguf_writer_u32(w, (uint32_t)kv->arr_type) | gguf_writer_u64(w, kv->n);
	return (r | gguf_writer_put(w, kv->raw, kv->raw_len)) ? -1 : 0;
}

int64_t gguf_writer_add_tensor(struct gguf_writer *w, const char *name, uint32_t type, uint32_t n_dims, const int64_t *ne)
{
	size_t bs = gguf_type_block_size(type), bv = gguf_type_block_values(type);
	if (w->failed || bs == 0 || n_dims < 1 || n_dims > GGUF_MAX_DIMS || ne[0] % (int64_t)bv)
		return -1;
	if (w->n_t == w->cap_t) {
		size_t cap = w->cap_t ? w->cap_t * 2 : 64;
		struct gguf_writer_tensor *nt = realloc(w->t, cap * sizeof *nt);
		if (!nt)
			return -1;
		w->t = nt;
		w->cap_t = cap;
	}
	struct gguf_writer_tensor *t = &w->t[w->n_t];
	memset(t, 0, sizeof *t);
	uint64_t nel = 1;
	for (uint32_t d = 0; d < GGUF_MAX_DIMS; d++) {
		t->ne[d] = d < n_dims ? ne[d] : 1;
		if (t->ne[d] < 1 || __builtin_mul_overflow(nel, (uint64_t)t->ne[d], &nel))
			return -1;
	}
	uint64_t sz;
	if (__builtin_mul_overflow(nel / bv, (uint64_t)bs, &sz) || sz > SIZE_MAX)
		return -1;
	t->name = strdup(name);
	if (!t->name)
		return -1;
	t->type = type;
	t->n_dims = n_dims;
	t->size = (size_t)sz;
	return (int64_t)w->n_t++;
}

static size_t gguf_align_up(size_t v, size_t a)
{
	return (v + a - 1) / a * a;
}

int gguf_writer_write(struct gguf_writer *w, gguf_write_fn wr, gguf_fill_fn fill, void *ctx, char *err, size_t errlen)
{
	const size_t align = GGUF_DEFAULT_ALIGNMENT;
	static const uint8_t zeros[GGUF_DEFAULT_ALIGNMENT];
	if (w->failed) {
		engine_errf(err, errlen, "out of memory while building metadata");
		return -1;
	}
	/* header + KV + tensor infos go in the same buffer, after the KV */
	size_t kv_end = w->kv_len;
	uint64_t off = 0;
	size_t max_size = 0;
	for (size_t i = 0; i < w->n_t; i++) {
		struct gguf_writer_tensor *t = &w->t[i];
		t->offset = off;
		off = gguf_align_up(off + t->size, align);
		if (t->size > max_size)
			max_size = t->size;
		gguf_writer_string(w, t->name, strlen(t->name));
		gguf_writer_u32(w, t->n_dims);
		for (uint32_t d = 0; d < t->n_dims; d++)
			gguf_writer_u64(w, (uint64_t)t->ne[d]);
		gguf_writer_u32(w, t->type);
		gguf_writer_u64(w, t->offset);
	}
	if (w->failed) {
		w->kv_len = kv_end;
		engine_errf(err, errlen, "out of memory while building tensor infos");
		return -1;
	}
	uint8_t head[24];
	memcpy(head, "GGUF", 4);
	uint64_t hv[2] = { w->n_t, w->n_kv };
	uint32_t ver = 3;
	memcpy(head + 4, &ver, 4);
	memcpy(head + 8, &hv[0], 8);
	memcpy(head + 16, &hv[1], 8);
	int r = wr(ctx, head, sizeof head) | wr(ctx, w->kv, w->kv_len);
	size_t pos = sizeof head + w->kv_len;
	w->kv_len = kv_end;	/* the writer stays reusable */
	if (r) {
		engine_errf(err, errlen, "write failed");
		return -1;
	}
	size_t pad = gguf_align_up(pos, align) - pos;
	if (pad && wr(ctx, zeros, pad)) {
		engine_errf(err, errlen, "write failed");
		return -1;
	}
	void *buf = malloc(max_size ? max_size : 1);
	if (!buf) {
		engine_errf(err, errlen, "out of memory (tensor of %zu bytes)", max_size);
		return -1;
	}
	for (size_t i = 0; i < w->n_t; i++) {
		struct gguf_writer_tensor *t = &w->t[i];
		if (fill(ctx, i, buf, t->size) < 0) {
			engine_errf(err, errlen, "tensor '%s': could not produce data", t->name);
			free(buf);
			return -1;
		}
		pad = gguf_align_up(t->size, align) - t->size;
		if (wr(ctx, buf, t->size) || (pad && wr(ctx, zeros, pad))) {
			engine_errf(err, errlen, "write failed");
			free(buf);
			return -1;
		}
	}
	free(buf);
	return 0;
}
