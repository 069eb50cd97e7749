/* AI Act Art. 50 transparency as a filter (filter.h): every answer that a
 * model made carries a machine-readable marker saying so, and which model
 * and upstream made it, as response headers (always) and as a "hafen" field
 * in the JSON body and in every SSE chunk (per purpose, default on). An
 * optional notice per purpose (Art. 50(1), GDPR Art. 13) goes out as a
 * header on the first answer a new end user gets. See docs/configuration.md
 * ("transparency") for the choices made here. */
#ifndef HAFEN_GATEWAY_TRANSPARENCY_H
#define HAFEN_GATEWAY_TRANSPARENCY_H

#include <stddef.h>

#include "filter.h"

struct config;
struct transparency_rt;

/* Per runtime: parses cfg->transparency (defaults when absent: body field
 * on, no notices). -1 with "FILE: transparency.KEY: what was expected" in
 * err. */
int transparency_load(const struct config *cfg, struct transparency_rt **out, char *err,
    size_t errlen);
void transparency_free(struct transparency_rt *t);

/* What transparency_scan_object found in a JSON text. */
struct transparency_scan {
	size_t open;       /* offset of the opening brace */
	int empty;         /* the object has no members */
	int has_hafen;     /* a top-level "hafen" member exists already */
	const char *model; /* top-level "model" string, as escaped in the text; NULL if none */
	size_t model_len;
};

/* One pass over p[0..n), no allocation: 0 when it holds exactly one JSON
 * object (RFC 8259 grammar, whitespace around it allowed, nesting up to
 * TRANSPARENCY_MAX_DEPTH), -1 otherwise. The marker is inserted after the
 * opening brace, so the answer is never parsed into a tree for it. */
#define TRANSPARENCY_MAX_DEPTH 512
int transparency_scan_object(const char *p, size_t n, struct transparency_scan *s);

/* RFC 8187 ext-value (UTF-8''pct-encoded) of s[0..n) into out (cap bytes,
 * needs 7 + 3n + 1); returns the length or -1 when it does not fit. */
int transparency_ext_value(const char *s, size_t n, char *out, size_t cap);

extern const struct filter_ops transparency_filter_ops;

#endif
