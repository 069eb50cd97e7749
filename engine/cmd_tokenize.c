/* tokenize: print the token ids of a text as a JSON array. Reads only the
 * tokenizer.* metadata, so a vocab-only GGUF works as well as a model. */
#include "engine/cmd.h"
#include "engine/gguf.h"
#include "engine/tokenizer.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Prompt files larger than this are refused rather than read whole. */
#define TOKENIZE_MAX_FILE ((size_t)64 << 20)

static int tokenize_usage(void)
{
	fprintf(stderr, "usage: hafen-engine tokenize -m MODEL.gguf (--text S | --file F) "
	    "[--add-special] [--no-parse-special] [--pieces]\n");
	return 2;
}

/* Read a whole file into a malloc'd buffer. */
static char *tokenize_read_file(const char *path, size_t *len, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0, cap = 0;

	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	for (;;) {
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 65536;
			char *nb;
			if (cap >= TOKENIZE_MAX_FILE) {
				snprintf(err, errlen, "%s: larger than %zu MiB", path, TOKENIZE_MAX_FILE >> 20);
				goto fail;
			}
			nb = realloc(buf, nc);
			if (!nb) {
				snprintf(err, errlen, "%s: out of memory", path);
				goto fail;
			}
			buf = nb;
			cap = nc;
		}
		size_t k = fread(buf + n, 1, cap - n, f);
		n += k;
		if (k == 0)
			break;
	}
	if (ferror(f)) {
		snprintf(err, errlen, "%s: read error", path);
		goto fail;
	}
	fclose(f);
	*len = n;
	return buf;
fail:
	fclose(f);
	if (buf)
		explicit_bzero(buf, cap);
	free(buf);
	return NULL;
}

/* Print s as a JSON string (RFC 8259 escapes; invalid UTF-8 bytes become
 * U+FFFD so the output stays valid JSON). */
static void tokenize_json_str(const char *s, size_t n)
{
	putchar('"');
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c == '\n')
			fputs("\\n", stdout);
		else if (c == '\t')
			fputs("\\t", stdout);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else if (c < 0x80)
			putchar(c);
		else {
			/* copy a whole valid sequence, else U+FFFD */
			size_t len = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
			size_t k = 1;
			while (len && k < len && i + k < n && ((unsigned char)s[i + k] & 0xC0) == 0x80)
				k++;
			if (len && k == len) {
				fwrite(s + i, 1, len, stdout);
				i += len - 1;
			} else {
				fputs("\\ufffd", stdout);
			}
		}
	}
	putchar('"');
}

int cmd_tokenize_main(int argc, char **argv)
{
	const char *model_path = NULL, *text = NULL, *file = NULL;
	unsigned flags = TOKENIZER_ENCODE_PARSE_SPECIAL;
	int pieces = 0, rc = 1;
	char err[512], *buf = NULL;
	size_t len = 0;
	struct gguf_file *g = NULL;
	struct tokenizer *t = NULL;
	struct tokenizer_ids ids = { 0 };

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--add-special") == 0) {
			flags |= TOKENIZER_ENCODE_ADD_SPECIAL;
			continue;
		}
		if (strcmp(argv[i], "--no-parse-special") == 0) {
			flags &= ~TOKENIZER_ENCODE_PARSE_SPECIAL;
			continue;
		}
		if (strcmp(argv[i], "--pieces") == 0) {
			pieces = 1;
			continue;
		}
		if (i + 1 >= argc)
			return tokenize_usage();
		if (strcmp(argv[i], "-m") == 0)
			model_path = argv[++i];
		else if (strcmp(argv[i], "--text") == 0)
			text = argv[++i];
		else if (strcmp(argv[i], "--file") == 0)
			file = argv[++i];
		else
			return tokenize_usage();
	}
	if (!model_path || (!text == !file))
		return tokenize_usage();
	if (file) {
		buf = tokenize_read_file(file, &len, err, sizeof err);
		if (!buf)
			goto fail;
	} else {
		len = strlen(text);
	}
	g = gguf_open(model_path, err, sizeof err);
	if (!g)
		goto fail;
	t = tokenizer_load(g, err, sizeof err);
	if (!t)
		goto fail;
	if (tokenizer_encode(t, file ? buf : text, len, flags, &ids, err, sizeof err) != 0)
		goto fail;
	putchar('[');
	for (size_t i = 0; i < ids.n; i++) {
		if (i)
			fputs(", ", stdout);
		if (pieces) {
			char piece[1024];
			size_t pl = tokenizer_token_to_piece(t, ids.v[i], TOKENIZER_DECODE_SPECIAL, piece, sizeof piece);
			printf("{\"id\": %d, \"piece\": ", ids.v[i]);
			tokenize_json_str(piece, pl < sizeof piece ? pl : sizeof piece);
			putchar('}');
		} else {
			printf("%d", ids.v[i]);
		}
	}
	puts("]");
	rc = fflush(stdout) == 0 ? 0 : 1;
	goto done;
fail:
	fprintf(stderr, "hafen-engine tokenize: %s\n", err);
done:
	if (buf)
		explicit_bzero(buf, len);
	free(buf);
	tokenizer_ids_free(&ids);
	tokenizer_free(t);
	gguf_close(g);
	return rc;
}
