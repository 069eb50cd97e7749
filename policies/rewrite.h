/* Redaction and pseudonymization of one decoded text field.
 *
 * A rewrite_map lives for exactly one request: it remembers which original
 * value became which placeholder ("<PERSON_1>"), so that the same value gets
 * the same placeholder in every message of the request and the streaming
 * restorer (restore.h) can put the originals back into the answer. The map
 * holds prompt text: it is wiped (explicit_bzero) when freed and never logged. */
#ifndef HAFEN_POLICIES_REWRITE_H
#define HAFEN_POLICIES_REWRITE_H

#include <stddef.h>

#include "policies/policy-t.h"

struct rewrite_map;

/* Longest placeholder we ever produce: '<' + label (<= 47) + '_' + 10 digits + '>'. */
#define REWRITE_LABEL_MAX 47
#define REWRITE_PLACEHOLDER_MAX (REWRITE_LABEL_MAX + 13)

struct rewrite_map *rewrite_map_new(void);
/* Wipes every original value and placeholder, then frees. NULL is fine. */
void rewrite_map_free(struct rewrite_map *map);
/* The same, keeping the empty map for the next request. */
void rewrite_map_clear(struct rewrite_map *map);

/* The placeholder for (label, value): the existing one when this value was
 * seen before with this label, else "<LABEL_n>" with the next n for the
 * label. Returns a string owned by the map, or NULL (out of memory, bad label). */
const char *rewrite_map_placeholder(struct rewrite_map *map, const char *label,
				    const char *value, size_t len);

/* The original value behind a complete placeholder ("<PERSON_1>", exact
 * bytes), or NULL when the map has no such placeholder. */
const char *rewrite_map_lookup(const struct rewrite_map *map, const char *ph,
			       size_t phlen, size_t *vlen);

/* 1 when s[0..len) is a proper prefix of at least one placeholder in the
 * map (the restorer must hold it back), else 0. */
int rewrite_map_is_partial(const struct rewrite_map *map, const char *s, size_t len);

size_t rewrite_map_count(const struct rewrite_map *map);

/* Rewrites text[0..len) according to the per-finding actions: REDACT gives
 * "[LABEL]", PSEUDONYMIZE gives the map's placeholder; other actions leave
 * the text alone. labels[e] is the label of entity e (n_labels entries).
 * Findings may come in any order; where they overlap, the one that starts
 * first (then the longer) wins and the others are left out. On success *out
 * is a NUL-terminated malloc'd string (the caller wipes and frees it) and
 * *outlen its length; *changed says whether anything was replaced. */
int rewrite_text(struct rewrite_map *map, const char *text, size_t len,
		 const struct policy_finding *findings, const enum policy_action *actions,
		 size_t n, const char *const *labels, size_t n_labels,
		 char **out, size_t *outlen, int *changed, char *err, size_t errlen);

#endif
