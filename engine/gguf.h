/* GGUF v3 reader (over mmap, fully validated) and writer.
 *
 * Reader: every count, length, dimension, type and offset in the file is
 * untrusted; gguf_open() checks them all against the file size with
 * overflow-safe arithmetic and fails with a message in err, never crashes.
 * Strings in GGUF are not NUL-terminated: string getters return a pointer
 * into the mapping plus a length.  Values inside the KV section may be
 * unaligned: numeric arrays are read with the copying getters.
 *
 * Usage (tokenizer):
 *	char err[256];
 *	struct gguf_file *g = gguf_open("m.gguf", err, sizeof err);
 *	uint64_t n;
 *	if (gguf_get_arr_info(g, "tokenizer.ggml.tokens", GGUF_TYPE_STRING, &n) == 0)
 *		for (uint64_t i = 0; i < n; i++) {
 *			size_t len;
 *			const char *s = gguf_get_arr_str(g, "tokenizer.ggml.tokens", i, &len);
 *		}
 *	gguf_close(g);
 * Look the key up once with gguf_find_key() and use the *_at variants in loops.
 */
#ifndef HAFEN_ENGINE_GGUF_H
#define HAFEN_ENGINE_GGUF_H

#include <stddef.h>
#include <stdint.h>

enum gguf_type {
	GGUF_TYPE_UINT8 = 0,
	GGUF_TYPE_INT8 = 1,
	GGUF_TYPE_UINT16 = 2,
	GGUF_TYPE_INT16 = 3,
	GGUF_TYPE_UINT32 = 4,
	GGUF_TYPE_INT32 = 5,
	GGUF_TYPE_FLOAT32 = 6,
	GGUF_TYPE_BOOL = 7,
	GGUF_TYPE_STRING = 8,
	GGUF_TYPE_ARRAY = 9,
	GGUF_TYPE_UINT64 = 10,
	GGUF_TYPE_INT64 = 11,
	GGUF_TYPE_FLOAT64 = 12,
	GGUF_TYPE_COUNT
};

#define GGUF_MAX_DIMS 4
#define GGUF_DEFAULT_ALIGNMENT 32

/* One key/value pair, pointing into the mapping. */
struct gguf_kv {
	const char *key;	/* NUL-terminated copy owned by the file */
	enum gguf_type type;
	enum gguf_type arr_type;	/* element type when type is ARRAY */
	uint64_t n;		/* elements when ARRAY, else 1 */
	const uint8_t *raw;	/* value bytes as stored (after the type field;
				 * for arrays after elem type + count) */
	size_t raw_len;
	uint64_t *str_off;	/* ARRAY of STRING: offset of element i in raw */
};

struct gguf_tensor {
	const char *name;	/* NUL-terminated copy owned by the file */
	uint32_t n_dims;
	int64_t ne[GGUF_MAX_DIMS];	/* ne[0] contiguous; unused dims are 1 */
	uint32_t type;		/* ggml type (see quant.h) */
	uint64_t offset;	/* relative to the data section */
	const void *data;	/* into the mapping, aligned to the file alignment */
	size_t size;		/* bytes */
};

struct gguf_file {
	const uint8_t *base;
	size_t size;
	int mapped;		/* 1 when base is our mmap */
	void *copy;		/* GGUF_LOAD_COPY: our anonymous mapping holding base */
	size_t copy_len;
	uint32_t version;
	uint32_t alignment;
	uint64_t n_kv;
	uint64_t n_tensors;
	struct gguf_kv *kv;
	struct gguf_tensor *tensors;
	size_t data_offset;
	int sealed;		/* gguf_seal was called */
};

/* Byte size of one element of a ggml type and the number of values per
 * block; implemented in quant.c.  Returns 0 for unknown types. */
size_t gguf_type_block_size(uint32_t ggml_type);
size_t gguf_type_block_values(uint32_t ggml_type);
const char *gguf_type_name(uint32_t ggml_type);

struct gguf_file *gguf_open(const char *path, char *err, size_t errlen);
/* How gguf_open_mode brings the file into memory.  MMAP maps the file:
 * pages come from the page cache on first touch (a fault per 4 KiB page
 * range, and a disk read again wherever the kernel dropped the page; this
 * machine's DAMON pages out file pages untouched for ~30 s, so experts
 * that routing skipped for a while come back from disk).  COPY reads the
 * whole file into anonymous memory that starts on a 2 MiB boundary with
 * transparent huge pages requested: it costs the read at open (and the
 * kernel zeroing every page first) and the file's size in resident
 * memory, and then decoding never faults and walks 512 times fewer pages
 * (docs/engine-kernels.md, "Loading the model").  AUTO copies files up to
 * GGUF_COPY_MAX_RAM_PCT % of physical memory and maps larger ones.  Every
 * mode parses and checks the very bytes it serves from, so a corrupt or
 * truncated file fails the same way. */
enum gguf_load {
	GGUF_LOAD_AUTO,
	GGUF_LOAD_MMAP,
	GGUF_LOAD_COPY,
};
#define GGUF_COPY_MAX_RAM_PCT 60
struct gguf_file *gguf_open_mode(const char *path, enum gguf_load mode, char *err, size_t errlen);
/* A copy stays writable until gguf_seal (model_load repacks weights in
 * it, then seals it read-only): a writable pointer to the byte at p of a
 * copy, NULL for a mapping, a caller's buffer or a sealed copy. */
uint8_t *gguf_writable(struct gguf_file *g, const void *p);
void gguf_seal(struct gguf_file *g);
/* Parse a buffer the caller keeps alive (fuzzing, tests). */
struct gguf_file *gguf_open_memory(const void *buf, size_t len, char *err, size_t errlen);
/* Parse a copy of the buffer in memory of its own, as GGUF_LOAD_COPY holds
 * a file (writable until gguf_seal, so model_load_gguf repacks it): lets
 * the fuzzer and tests run the copy loader's path without a file. */
struct gguf_file *gguf_open_memory_copy(const void *buf, size_t len, char *err, size_t errlen);
void gguf_close(struct gguf_file *g);

/* Index of key or -1. */
int64_t gguf_find_key(const struct gguf_file *g, const char *key);
const struct gguf_tensor *gguf_find_tensor(const struct gguf_file *g, const char *name);

/* Scalar getters: 0 when the key exists with a compatible type, -1 if absent
 * or of another type.  Integer getters accept any integer type whose value
 * fits the output. */
int gguf_get_u32(const struct gguf_file *g, const char *key, uint32_t *out);
int gguf_get_i64(const struct gguf_file *g, const char *key, int64_t *out);
int gguf_get_f32(const struct gguf_file *g, const char *key, float *out);
int gguf_get_bool(const struct gguf_file *g, const char *key, int *out);
/* String value (not NUL-terminated) or NULL. */
const char *gguf_get_str(const struct gguf_file *g, const char *key, size_t *len);

/* Array: 0 and the count when key is an array of elem_type. */
int gguf_get_arr_info(const struct gguf_file *g, const char *key, enum gguf_type elem_type, uint64_t *n);
/* Element i of a string array (not NUL-terminated) or NULL. */
const char *gguf_get_arr_str(const struct gguf_file *g, const char *key, uint64_t i, size_t *len);
const char *gguf_get_arr_str_at(const struct gguf_file *g, int64_t kv_index, uint64_t i, size_t *len);
/* Copy n elements of an f32 / i32 array (n must equal the array's count). */
int gguf_get_arr_f32(const struct gguf_file *g, const char *key, float *out, uint64_t n);
int gguf_get_arr_i32(const struct gguf_file *g, const char *key, int32_t *out, uint64_t n);

/* ---- writer ----
 * Collect KV pairs and tensor descriptions, then stream the file through a
 * write callback; tensor data comes from a fill callback one tensor at a
 * time so that large models never sit in memory whole. */
struct gguf_writer;

typedef int (*gguf_write_fn)(void *ctx, const void *buf, size_t n);
/* Fill tensor index idx (size bytes) into buf. */
typedef int (*gguf_fill_fn)(void *ctx, size_t idx, void *buf, size_t size);

struct gguf_writer *gguf_writer_new(void);
void gguf_writer_free(struct gguf_writer *w);
int gguf_writer_add_u32(struct gguf_writer *w, const char *key, uint32_t v);
int gguf_writer_add_i32(struct gguf_writer *w, const char *key, int32_t v);
int gguf_writer_add_f32(struct gguf_writer *w, const char *key, float v);
int gguf_writer_add_bool(struct gguf_writer *w, const char *key, int v);
int gguf_writer_add_str(struct gguf_writer *w, const char *key, const char *s, size_t len);
int gguf_writer_add_arr_str(struct gguf_writer *w, const char *key, const char *const *s, const size_t *len, uint64_t n);
int gguf_writer_add_arr_f32(struct gguf_writer *w, const char *key, const float *v, uint64_t n);
int gguf_writer_add_arr_i32(struct gguf_writer *w, const char *key, const int32_t *v, uint64_t n);
/* Copy a KV pair from a reader verbatim. */
int gguf_writer_add_kv(struct gguf_writer *w, const struct gguf_kv *kv);
/* Register a tensor; returns its index or -1. */
int64_t gguf_writer_add_tensor(struct gguf_writer *w, const char *name, uint32_t type, uint32_t n_dims, const int64_t *ne);
int gguf_writer_write(struct gguf_writer *w, gguf_write_fn wr, gguf_fill_fn fill, void *ctx, char *err, size_t errlen);

#endif
