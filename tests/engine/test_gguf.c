/* GGUF reader/writer: round trip through memory, every truncation and a set
 * of corrupted headers must fail cleanly with a message. */
#include "engine/gguf.h"
#include "engine/quant.h"
#include "tests/tap.h"

#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

struct membuf {
	uint8_t *p;
	size_t len, cap;
};

static int mem_write(void *ctx, const void *buf, size_t n)
{
	struct membuf *m = ctx;
	if (m->len + n > m->cap) {
		size_t cap = (m->len + n) * 2;
		uint8_t *np = realloc(m->p, cap);
		if (!np)
			return -1;
		m->p = np;
		m->cap = cap;
	}
	memcpy(m->p + m->len, buf, n);
	m->len += n;
	return 0;
}

static int file_put(const char *path, const uint8_t *p, size_t n)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		return -1;
	int rc = fwrite(p, 1, n, f) == n ? 0 : -1;
	return fclose(f) == 0 ? rc : -1;
}

/* The file-loading modes (gguf_open_mode): both serve the same values and
 * tensor bytes, the copy's data is 2 MiB-aligned memory, and both refuse
 * every truncation and a corrupt header with a message naming the file. */
static void test_load_modes(const struct membuf *m)
{
	char path[128], err[256];
	snprintf(path, sizeof path, "/tmp/hafen-test-gguf-%d.gguf", (int)getpid());
	ok(file_put(path, m->p, m->len) == 0, "model file written");
	static const enum gguf_load modes[] = { GGUF_LOAD_MMAP, GGUF_LOAD_COPY, GGUF_LOAD_AUTO };
	static const char *const names[] = { "mmap", "copy", "auto" };
	for (size_t k = 0; k < 3; k++) {
		err[0] = 0;
		struct gguf_file *g = gguf_open_mode(path, modes[k], err, sizeof err);
		ok(g != NULL, "%s: opens (%s)", names[k], err);
		if (!g)
			continue;
		const struct gguf_tensor *t = gguf_find_tensor(g, "a.weight");
		const struct gguf_tensor *t2 = gguf_find_tensor(g, "b.weight");
		ok(t && t2 && memcmp(t->data, m->p + ((const uint8_t *)t->data - g->base), t->size) == 0 &&
			memcmp(t2->data, m->p + ((const uint8_t *)t2->data - g->base), t2->size) == 0 &&
			((const uint8_t *)t->data)[5] == 5, "%s: tensor bytes as written", names[k]);
		size_t len = 0;
		const char *s = gguf_get_str(g, "general.architecture", &len);
		ok(s && len == 5 && memcmp(s, "llama", 5) == 0, "%s: metadata", names[k]);
		if (modes[k] != GGUF_LOAD_MMAP)	/* auto: a small file is copied */
			ok(((uintptr_t)g->base & (((uintptr_t)2 << 20) - 1)) == 0 && g->copy && !g->mapped,
				"%s: in our own memory, 2 MiB-aligned", names[k]);
		else
			ok(g->mapped && !g->copy, "mmap: the file's mapping");
		gguf_close(g);
		int all_fail = 1, all_msg = 1;
		for (size_t cut = 1; cut < m->len - 4; cut += 3) {
			if (file_put(path, m->p, cut) < 0) {
				all_fail = 0;
				break;
			}
			err[0] = 0;
			g = gguf_open_mode(path, modes[k], err, sizeof err);
			if (g) {
				all_fail = 0;
				gguf_close(g);
			} else if (!strstr(err, path)) {
				all_msg = 0;
			}
		}
		ok(all_fail && all_msg, "%s: truncated files refused with the path in the message", names[k]);
		uint8_t *bad = malloc(m->len);
		memcpy(bad, m->p, m->len);
		bad[15] = 0x7f;	/* huge tensor count */
		ok(file_put(path, bad, m->len) == 0, "corrupt file written");
		err[0] = 0;
		g = gguf_open_mode(path, modes[k], err, sizeof err);
		ok(!g && strstr(err, path), "%s: corrupt header refused (%s)", names[k], err);
		gguf_close(g);
		free(bad);
		ok(file_put(path, m->p, m->len) == 0, "model file restored");
	}
	unlink(path);
	ok(gguf_open_mode("/nonexistent/x.gguf", GGUF_LOAD_COPY, err, sizeof err) == NULL &&
		strstr(err, "/nonexistent/x.gguf"), "copy: missing file names the path");
}

static int mem_fill(void *ctx, size_t idx, void *buf, size_t size)
{
	(void)ctx;
	for (size_t i = 0; i < size; i++)
		((uint8_t *)buf)[i] = (uint8_t)(idx * 31 + i);
	return 0;
}

int main(void)
{
	struct gguf_writer *w = gguf_writer_new();
	const char *toks[] = { "a", "bc", "", "Grüße" };
	float sc[4] = { 0.5f, -1, 2, 3.25f };
	int32_t ty[3] = { 1, -2, 3 };
	ok(gguf_writer_add_str(w, "general.architecture", "llama", 5) == 0, "add str");
	ok(gguf_writer_add_u32(w, "llama.block_count", 3) == 0, "add u32");
	ok(gguf_writer_add_f32(w, "llama.rope.freq_base", 10000.0f) == 0, "add f32");
	ok(gguf_writer_add_bool(w, "x.flag", 1) == 0, "add bool");
	ok(gguf_writer_add_i32(w, "x.neg", -5) == 0, "add i32");
	ok(gguf_writer_add_arr_str(w, "tokenizer.ggml.tokens", toks, NULL, 4) == 0, "add str array");
	ok(gguf_writer_add_arr_f32(w, "tokenizer.ggml.scores", sc, 4) == 0, "add f32 array");
	ok(gguf_writer_add_arr_i32(w, "tokenizer.ggml.token_type", ty, 3) == 0, "add i32 array");
	int64_t ne1[2] = { 64, 3 }, ne2[1] = { 7 };
	ok(gguf_writer_add_tensor(w, "a.weight", QUANT_TYPE_Q8_0, 2, ne1) == 0, "add tensor q8_0");
	ok(gguf_writer_add_tensor(w, "b.weight", QUANT_TYPE_F32, 1, ne2) == 1, "add tensor f32");
	int64_t bad[1] = { 33 };
	ok(gguf_writer_add_tensor(w, "c", QUANT_TYPE_Q4_0, 1, bad) < 0, "row not a block multiple refused");
	struct membuf m = { 0 };
	char err[256] = "";
	ok(gguf_writer_write(w, mem_write, mem_fill, &m, err, sizeof err) == 0, "write: %s", err);
	gguf_writer_free(w);

	struct gguf_file *g = gguf_open_memory(m.p, m.len, err, sizeof err);
	ok(g != NULL, "read back: %s", g ? "" : err);
	if (!g)
		return tap_done(), 1;
	size_t len = 0;
	const char *s = gguf_get_str(g, "general.architecture", &len);
	ok(s && len == 5 && memcmp(s, "llama", 5) == 0, "string value");
	uint32_t u = 0;
	ok(gguf_get_u32(g, "llama.block_count", &u) == 0 && u == 3, "u32 value");
	ok(gguf_get_u32(g, "x.neg", &u) < 0, "negative i32 not a u32");
	int64_t i64 = 0;
	ok(gguf_get_i64(g, "x.neg", &i64) == 0 && i64 == -5, "i32 read as i64");
	float f = 0;
	ok(gguf_get_f32(g, "llama.rope.freq_base", &f) == 0 && f == 10000.0f, "f32 value");
	int b = 0;
	ok(gguf_get_bool(g, "x.flag", &b) == 0 && b == 1, "bool value");
	ok(gguf_get_u32(g, "missing.key", &u) < 0, "missing key");
	ok(gguf_get_str(g, "llama.block_count", &len) == NULL, "wrong type");
	uint64_t n = 0;
	ok(gguf_get_arr_info(g, "tokenizer.ggml.tokens", GGUF_TYPE_STRING, &n) == 0 && n == 4, "string array count");
	s = gguf_get_arr_str(g, "tokenizer.ggml.tokens", 3, &len);
	ok(s && len == strlen("Grüße") && memcmp(s, "Grüße", len) == 0, "string array element");
	s = gguf_get_arr_str(g, "tokenizer.ggml.tokens", 2, &len);
	ok(s && len == 0, "empty string element");
	ok(gguf_get_arr_str(g, "tokenizer.ggml.tokens", 4, &len) == NULL, "index out of range");
	float sc2[4];
	ok(gguf_get_arr_f32(g, "tokenizer.ggml.scores", sc2, 4) == 0 && memcmp(sc, sc2, sizeof sc) == 0, "f32 array");
	int32_t ty2[3];
	ok(gguf_get_arr_i32(g, "tokenizer.ggml.token_type", ty2, 3) == 0 && memcmp(ty, ty2, sizeof ty) == 0, "i32 array");
	ok(gguf_get_arr_i32(g, "tokenizer.ggml.token_type", ty2, 2) < 0, "count mismatch refused");
	const struct gguf_tensor *t = gguf_find_tensor(g, "a.weight");
	ok(t && t->type == QUANT_TYPE_Q8_0 && t->ne[0] == 64 && t->ne[1] == 3 && t->size == 6 * 34, "tensor info");
	ok(t && ((uintptr_t)((const uint8_t *)t->data - m.p)) % 32 == 0, "tensor data aligned");
	ok(t && ((const uint8_t *)t->data)[5] == 5, "tensor data content");
	t = gguf_find_tensor(g, "b.weight");
	ok(t && ((const uint8_t *)t->data)[0] == 31, "second tensor content");
	gguf_close(g);

	/* every truncation fails with a message, never crashes; the last
	 * tensor (7 floats) is followed by 4 bytes of padding that may go */
	int all_fail = 1, all_msg = 1;
	for (size_t cut = 0; cut < m.len - 4; cut++) {
		uint8_t *copy = malloc(cut ? cut : 1);
		memcpy(copy, m.p, cut);
		err[0] = 0;
		g = gguf_open_memory(copy, cut, err, sizeof err);
		if (g) {
			all_fail = 0;
			gguf_close(g);
		} else if (!err[0]) {
			all_msg = 0;
		}
		free(copy);
	}
	ok(all_fail, "every truncated file refused");
	ok(all_msg, "every refusal has a message");

	/* corrupted fields */
	struct {
		size_t off;
		uint8_t val;
		const char *what;
	} bad_bytes[] = {
		{ 0, 'X', "bad magic" },
		{ 4, 2, "version 2" },
		{ 15, 0x7f, "huge tensor count" },
		{ 23, 0x7f, "huge kv count" },
		{ 31, 0x7f, "huge key length" },
	};
	for (size_t i = 0; i < sizeof bad_bytes / sizeof bad_bytes[0]; i++) {
		uint8_t *copy = calloc(1, m.len + 64);
		memcpy(copy, m.p, m.len);
		copy[bad_bytes[i].off] = bad_bytes[i].val;
		err[0] = 0;
		g = gguf_open_memory(copy, m.len, err, sizeof err);
		ok(g == NULL && err[0], "%s refused (%s)", bad_bytes[i].what, err);
		gguf_close(g);
		free(copy);
	}
	ok(gguf_open("/nonexistent/x.gguf", err, sizeof err) == NULL && strstr(err, "/nonexistent/x.gguf"), "missing file names the path");
	test_load_modes(&m);
	free(m.p);

	/* f16 conversion round trips every finite half */
	int f16ok = 1;
	for (uint32_t h = 0; h < 0x10000; h++) {
		if ((h & 0x7c00) == 0x7c00)
			continue;
		if (quant_f32_to_f16(quant_f16_to_f32((uint16_t)h)) != h)
			f16ok = 0;
	}
	ok(f16ok, "f16 <-> f32 round trip");
	tap_done();
	return tap_exit_status();
}
