/* Redaction and pseudonymization with a per-request placeholder map. */
#include "policies/wipebuf.h"
#include "policies/rewrite.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct rewrite_entry {
	char *value;        /* original bytes, NUL-terminated copy */
	size_t vlen;
	char *placeholder;  /* "<LABEL_n>" */
	size_t phlen;
	size_t label_len;   /* the label is placeholder[1 .. 1 + label_len) */
	uint64_t vhash;     /* of (label, value) */
	uint64_t phash;     /* of the placeholder */
};

/* Placeholders are numbered per label; few distinct labels per request. */
struct rewrite_label {
	char name[REWRITE_LABEL_MAX + 1];
	unsigned next;
};

/* Two open-addressing indexes (entry index + 1, 0 = empty) keep lookups
 * constant-time: a request with many distinct values must not cost O(n^2). */
struct rewrite_map {
	struct rewrite_entry *v;
	size_t n, cap;
	size_t *by_value, *by_placeholder; /* tab_size slots each */
	size_t tab_size;                   /* power of two, >= 2 * cap */
	struct rewrite_label *labels;
	size_t n_labels;
};

/* FNV-1a, 64-bit. */
static uint64_t rewrite_hash(uint64_t h, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ull;
	}
	return h;
}

#define REWRITE_HASH_SEED 14695981039346656037ull

static uint64_t rewrite_value_hash(const char *label, size_t label_len, const char *value, size_t len)
{
	uint64_t h = rewrite_hash(REWRITE_HASH_SEED, label, label_len);
	h = rewrite_hash(h, "\0", 1);
	return rewrite_hash(h, value, len);
}

struct rewrite_map *rewrite_map_new(void)
{
	return calloc(1, sizeof(struct rewrite_map));
}

/* Wipes and frees what the map holds; the struct itself stays. */
static void rewrite_map_release(struct rewrite_map *map)
{
	for (size_t i = 0; i < map->n; i++) {
		explicit_bzero(map->v[i].value, map->v[i].vlen);
		explicit_bzero(map->v[i].placeholder, map->v[i].phlen);
		free(map->v[i].value);
		free(map->v[i].placeholder);
	}
	if (map->v)
		explicit_bzero(map->v, map->cap * sizeof(*map->v));
	free(map->v);
	free(map->by_value);
	free(map->by_placeholder);
	free(map->labels);
}

void rewrite_map_free(struct rewrite_map *map)
{
	if (!map)
		return;
	rewrite_map_release(map);
	free(map);
}

void rewrite_map_clear(struct rewrite_map *map)
{
	if (!map || (!map->v && !map->tab_size && !map->labels))
		return; /* the usual request: nothing was pseudonymized */
	rewrite_map_release(map);
	memset(map, 0, sizeof(*map));
}

/* Labels are upper-case ASCII letters, digits and '_', starting with a
 * letter: the restorer recognises placeholders by exactly this alphabet. */
static int rewrite_label_byte(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

static int rewrite_label_ok(const char *label, size_t len)
{
	if (len == 0 || len > REWRITE_LABEL_MAX || !(label[0] >= 'A' && label[0] <= 'Z'))
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!rewrite_label_byte(label[i]))
			return 0;
	return 1;
}

static void rewrite_index_put(size_t *tab, size_t size, uint64_t h, size_t idx)
{
	size_t mask = size - 1;
	size_t i = (size_t)h & mask;
	while (tab[i])
		i = (i + 1) & mask;
	tab[i] = idx + 1;
}

static int rewrite_map_grow(struct rewrite_map *map)
{
	size_t cap = map->cap ? map->cap * 2 : 16;
	if (cap > SIZE_MAX / 4 / sizeof(struct rewrite_entry))
		return -1;
	struct rewrite_entry *v = calloc(cap, sizeof(*v));
	size_t size = cap * 2;
	size_t *bv = calloc(size, sizeof(size_t)), *bp = calloc(size, sizeof(size_t));
	if (!v || !bv || !bp) {
		free(v);
		free(bv);
		free(bp);
		return -1;
	}
	if (map->n) {
		memcpy(v, map->v, map->n * sizeof(*v));
		explicit_bzero(map->v, map->cap * sizeof(*v));
	}
	for (size_t i = 0; i < map->n; i++) {
		rewrite_index_put(bv, size, v[i].vhash, i);
		rewrite_index_put(bp, size, v[i].phash, i);
	}
	free(map->v);
	free(map->by_value);
	free(map->by_placeholder);
	map->v = v;
	map->cap = cap;
	map->by_value = bv;
	map->by_placeholder = bp;
	map->tab_size = size;
	return 0;
}

static unsigned *rewrite_label_counter(struct rewrite_map *map, const char *label, size_t len)
{
	for (size_t i = 0; i < map->n_labels; i++)
		if (strlen(map->labels[i].name) == len && memcmp(map->labels[i].name, label, len) == 0)
			return &map->labels[i].next;
	struct rewrite_label *l = realloc(map->labels, (map->n_labels + 1) * sizeof(*l));
	if (!l)
		return NULL;
	map->labels = l;
	memcpy(l[map->n_labels].name, label, len);
	l[map->n_labels].name[len] = '\0';
	l[map->n_labels].next = 1;
	return &l[map->n_labels++].next;
}

const char *rewrite_map_placeholder(struct rewrite_map *map, const char *label,
				    const char *value, size_t len)
{
	size_t label_len = strlen(label);
	if (!rewrite_label_ok(label, label_len))
		return NULL;
	uint64_t vh = rewrite_value_hash(label, label_len, value, len);
	if (map->tab_size) {
		size_t mask = map->tab_size - 1;
		for (size_t i = (size_t)vh & mask; map->by_value[i]; i = (i + 1) & mask) {
			struct rewrite_entry *e = &map->v[map->by_value[i] - 1];
			if (e->vhash == vh && e->label_len == label_len && e->vlen == len &&
			    memcmp(e->placeholder + 1, label, label_len) == 0 &&
			    memcmp(e->value, value, len) == 0)
				return e->placeholder;
		}
	}
	unsigned *next = rewrite_label_counter(map, label, label_len);
	if (!next || *next == UINT32_MAX)
		return NULL;
	if (map->n == map->cap && rewrite_map_grow(map) < 0)
		return NULL;
	struct rewrite_entry *e = &map->v[map->n];
	e->value = malloc(len + 1);
	e->placeholder = malloc(REWRITE_PLACEHOLDER_MAX + 1);
	if (!e->value || !e->placeholder) {
		free(e->value);
		free(e->placeholder);
		memset(e, 0, sizeof(*e));
		return NULL;
	}
	memcpy(e->value, value, len);
	e->value[len] = '\0';
	e->vlen = len;
	e->label_len = label_len;
	int w = snprintf(e->placeholder, REWRITE_PLACEHOLDER_MAX + 1, "<%s_%u>", label, (*next)++);
	e->phlen = (size_t)w;
	e->vhash = vh;
	e->phash = rewrite_hash(REWRITE_HASH_SEED, e->placeholder, e->phlen);
	rewrite_index_put(map->by_value, map->tab_size, e->vhash, map->n);
	rewrite_index_put(map->by_placeholder, map->tab_size, e->phash, map->n);
	map->n++;
	return e->placeholder;
}

const char *rewrite_map_lookup(const struct rewrite_map *map, const char *ph,
			       size_t phlen, size_t *vlen)
{
	if (!map->tab_size || phlen < 4 || phlen > REWRITE_PLACEHOLDER_MAX)
		return NULL;
	uint64_t h = rewrite_hash(REWRITE_HASH_SEED, ph, phlen);
	size_t mask = map->tab_size - 1;
	for (size_t i = (size_t)h & mask; map->by_placeholder[i]; i = (i + 1) & mask) {
		const struct rewrite_entry *e = &map->v[map->by_placeholder[i] - 1];
		if (e->phash == h && e->phlen == phlen && memcmp(e->placeholder, ph, phlen) == 0) {
			*vlen = e->vlen;
			return e->value;
		}
	}
	return NULL;
}

int rewrite_map_is_partial(const struct rewrite_map *map, const char *s, size_t len)
{
	/* Cheap shape test first: "<", then a letter, then label bytes or
	 * digits, so that text full of '<' does not walk the map each time. */
	if (len == 0 || len >= REWRITE_PLACEHOLDER_MAX || s[0] != '<')
		return 0;
	if (len > 1 && !(s[1] >= 'A' && s[1] <= 'Z'))
		return 0;
	for (size_t i = 2; i < len; i++)
		if (!rewrite_label_byte(s[i]))
			return 0;
	for (size_t i = 0; i < map->n; i++) {
		const struct rewrite_entry *e = &map->v[i];
		if (len < e->phlen && memcmp(e->placeholder, s, len) == 0)
			return 1;
	}
	return 0;
}

size_t rewrite_map_count(const struct rewrite_map *map)
{
	return map->n;
}

/* Growable output string; wiped whenever it moves, since it holds prompt text. */
struct rewrite_item {
	const struct policy_finding *f;
	enum policy_action action;
};

static int rewrite_item_cmp(const void *a, const void *b)
{
	const struct rewrite_item *x = a, *y = b;
	if (x->f->start != y->f->start)
		return x->f->start < y->f->start ? -1 : 1;
	if (x->f->end != y->f->end)
		return x->f->end > y->f->end ? -1 : 1; /* longer first */
	return 0;
}

int rewrite_text(struct rewrite_map *map, const char *text, size_t len,
		 const struct policy_finding *findings, const enum policy_action *actions,
		 size_t n, const char *const *labels, size_t n_labels,
		 char **out, size_t *outlen, int *changed, char *err, size_t errlen)
{
	struct rewrite_item *items = NULL;
	size_t n_items = 0;
	struct wipebuf b = { 0 };
	*changed = 0;

	if (n) {
		items = calloc(n, sizeof(*items));
		if (!items)
			goto nomem;
	}
	for (size_t i = 0; i < n; i++) {
		if (actions[i] != POLICY_ACTION_REDACT && actions[i] != POLICY_ACTION_PSEUDONYMIZE)
			continue;
		const struct policy_finding *f = &findings[i];
		if (f->start > f->end || f->end > len) {
			snprintf(err, errlen, "finding %zu lies outside the text (%u..%u of %zu bytes)",
				 i, (unsigned)f->start, (unsigned)f->end, len);
			goto fail;
		}
		if (f->entity >= n_labels || !labels[f->entity]) {
			snprintf(err, errlen, "finding %zu has an unknown entity %u", i, (unsigned)f->entity);
			goto fail;
		}
		items[n_items].f = f;
		items[n_items].action = actions[i];
		n_items++;
	}
	qsort(items, n_items, sizeof(*items), rewrite_item_cmp);

	size_t cursor = 0;
	for (size_t i = 0; i < n_items; i++) {
		const struct policy_finding *f = items[i].f;
		if (f->start < cursor || f->start == f->end)
			continue; /* overlapped by an earlier, longer finding */
		if (wipebuf_put(&b, text + cursor, f->start - cursor) < 0)
			goto nomem;
		const char *label = labels[f->entity];
		if (items[i].action == POLICY_ACTION_REDACT) {
			if (wipebuf_put(&b, "[", 1) < 0 || wipebuf_put(&b, label, strlen(label)) < 0 ||
			    wipebuf_put(&b, "]", 1) < 0)
				goto nomem;
		} else {
			const char *ph = rewrite_map_placeholder(map, label, text + f->start, f->end - f->start);
			if (!ph) {
				snprintf(err, errlen, "cannot make a placeholder for entity label '%s'", label);
				goto fail;
			}
			if (wipebuf_put(&b, ph, strlen(ph)) < 0)
				goto nomem;
		}
		cursor = f->end;
		*changed = 1;
	}
	if (wipebuf_put(&b, text + cursor, len - cursor) < 0)
		goto nomem;
	free(items);
	*out = b.p;
	*outlen = b.n;
	return 0;
nomem:
	snprintf(err, errlen, "out of memory");
fail:
	free(items);
	if (b.p) {
		explicit_bzero(b.p, b.cap);
		free(b.p);
	}
	return -1;
}
