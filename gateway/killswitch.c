/* Kill switch state (killswitch.h). A small table under a mutex: it
 * changes only when an operator acts, and the request path reads an
 * atomic count first, so with no switch pulled a request takes no lock. */
#include "killswitch.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct killswitch_entry {
	int kind;
	char name[KILLSWITCH_NAME_MAX];
	char by[KILLSWITCH_OPERATOR_MAX + 1];
	uint64_t since;
};

static pthread_mutex_t killswitch_lock = PTHREAD_MUTEX_INITIALIZER;
static struct killswitch_entry killswitch_entries[KILLSWITCH_MAX];
static size_t killswitch_n;
static atomic_int killswitch_count;

/* Saves: one writer at a time, newest snapshot wins. */
static pthread_mutex_t killswitch_save_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t killswitch_save_cond = PTHREAD_COND_INITIALIZER;
static int killswitch_saving, killswitch_writer_started;
static char *killswitch_pending_file, *killswitch_pending_text;

static const char *const killswitch_kind_names[KILLSWITCH_KIND_COUNT] = {
	[KILLSWITCH_KIND_UPSTREAM] = "upstream",
	[KILLSWITCH_KIND_MODEL] = "model",
};

const char *killswitch_kind_name(int kind)
{
	return kind >= 0 && kind < KILLSWITCH_KIND_COUNT ? killswitch_kind_names[kind] : "unknown";
}

static int killswitch_find(int kind, const char *name)
{
	for (size_t i = 0; i < killswitch_n; i++)
		if (killswitch_entries[i].kind == kind && strcmp(killswitch_entries[i].name, name) == 0)
			return (int)i;
	return -1;
}

int killswitch_set(int kind, const char *name, const char *by, int on, uint64_t now_s)
{
	int rc = 0;
	pthread_mutex_lock(&killswitch_lock);
	int i = killswitch_find(kind, name);
	if (on && i >= 0) {
		rc = 1;
	} else if (on && killswitch_n == KILLSWITCH_MAX) {
		rc = -1;
	} else if (on) {
		struct killswitch_entry *e = &killswitch_entries[killswitch_n++];
		e->kind = kind;
		snprintf(e->name, sizeof e->name, "%s", name);
		snprintf(e->by, sizeof e->by, "%s", by ? by : "");
		e->since = now_s;
	} else if (i < 0) {
		rc = 1;
	} else {
		killswitch_entries[i] = killswitch_entries[--killswitch_n];
	}
	atomic_store(&killswitch_count, (int)killswitch_n);
	pthread_mutex_unlock(&killswitch_lock);
	return rc;
}

int killswitch_is_on(int kind, const char *name)
{
	if (atomic_load_explicit(&killswitch_count, memory_order_acquire) == 0)
		return 0;
	pthread_mutex_lock(&killswitch_lock);
	int on = killswitch_find(kind, name) >= 0;
	pthread_mutex_unlock(&killswitch_lock);
	return on;
}

void killswitch_clear_all(void)
{
	pthread_mutex_lock(&killswitch_lock);
	killswitch_n = 0;
	atomic_store(&killswitch_count, 0);
	pthread_mutex_unlock(&killswitch_lock);
}

json_t *killswitch_list(void)
{
	json_t *a = json_array();
	pthread_mutex_lock(&killswitch_lock);
	for (size_t i = 0; a && i < killswitch_n; i++) {
		const struct killswitch_entry *e = &killswitch_entries[i];
		json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:I}", "kind", killswitch_kind_name(e->kind),
		    "name", e->name, "by", e->by, "since", (json_int_t)e->since));
	}
	pthread_mutex_unlock(&killswitch_lock);
	return a;
}

static int killswitch_printable(const char *s, size_t len, size_t max)
{
	if (len == 0 || len > max)
		return 0;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e || s[i] == '"' || s[i] == '\\')
			return 0;
	return 1;
}

int killswitch_valid_operator(const char *s, size_t len)
{
	return killswitch_printable(s, len, KILLSWITCH_OPERATOR_MAX);
}

/* One key, "upstream" or "model", whose value is a name. */
static int killswitch_parse_object(json_t *j, int *kind, char *name, size_t cap, char *err, size_t errlen)
{
	if (!json_is_object(j) || json_object_size(j) != 1) {
		snprintf(err, errlen, "expected an object with exactly one key, \"upstream\" or \"model\"");
		return -1;
	}
	for (int k = 0; k < KILLSWITCH_KIND_COUNT; k++) {
		json_t *v = json_object_get(j, killswitch_kind_names[k]);
		if (!v)
			continue;
		const char *s = json_string_value(v);
		size_t n = s ? json_string_length(v) : 0;
		if (!s || strlen(s) != n || !killswitch_printable(s, n, cap - 1)) {
			snprintf(err, errlen, "%s: expected a name of 1 to %zu printable characters",
			    killswitch_kind_names[k], cap - 1);
			return -1;
		}
		memcpy(name, s, n + 1);
		*kind = k;
		return 0;
	}
	snprintf(err, errlen, "expected the key \"upstream\" or \"model\"");
	return -1;
}

int killswitch_parse_body(const char *body, size_t len, int *kind, char *name, size_t cap,
    char *err, size_t errlen)
{
	json_error_t je;
	json_t *j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
	if (!j) {
		snprintf(err, errlen, "invalid JSON at line %d column %d", je.line, je.column);
		return -1;
	}
	int rc = killswitch_parse_object(j, kind, name, cap, err, errlen);
	json_decref(j);
	return rc;
}

/* File format: {"version":1,"switches":[{"kind","name","by","since"}]}. */
int killswitch_load(const char *file, char *err, size_t errlen)
{
	json_error_t je;
	json_t *j = json_load_file(file, JSON_REJECT_DUPLICATES, &je);
	if (!j) {
		if (access(file, F_OK) != 0 && errno == ENOENT)
			return 0; /* first start: no switch pulled yet */
		snprintf(err, errlen, "%s: line %d: %s", file, je.line, je.text);
		return -1;
	}
	json_t *sw = json_object_get(j, "switches");
	if (!json_is_array(sw)) {
		snprintf(err, errlen, "%s: switches: expected an array", file);
		json_decref(j);
		return -1;
	}
	size_t i;
	json_t *e;
	json_array_foreach(sw, i, e) {
		json_t *kind = json_object_get(e, "kind"), *name = json_object_get(e, "name");
		json_t *by = json_object_get(e, "by"), *since = json_object_get(e, "since");
		int k = -1;
		for (int t = 0; t < KILLSWITCH_KIND_COUNT; t++)
			if (json_is_string(kind) && strcmp(json_string_value(kind), killswitch_kind_names[t]) == 0)
				k = t;
		const char *n = json_string_value(name);
		if (k < 0 || !n || !killswitch_printable(n, strlen(n), KILLSWITCH_NAME_MAX - 1) ||
		    !json_is_string(by) || !json_is_integer(since)) {
			snprintf(err, errlen, "%s: switches[%zu]: expected {kind, name, by, since}", file, i);
			json_decref(j);
			return -1;
		}
		if (killswitch_set(k, n, json_string_value(by), 1, (uint64_t)json_integer_value(since)) < 0) {
			snprintf(err, errlen, "%s: more than %d switches", file, KILLSWITCH_MAX);
			json_decref(j);
			return -1;
		}
	}
	json_decref(j);
	return 0;
}

/* Strings from json_dumps() go back through jansson's free function: the
 * daemon installs wiping allocators (openai_json_init), tests do not. */
static void killswitch_json_free(void *p)
{
	json_malloc_t m;
	json_free_t f;
	json_get_alloc_funcs(&m, &f);
	if (p)
		f(p);
}

/* Write to a temporary file, fsync, rename: a crash leaves the old state
 * or the new one, never half of it. */
static void killswitch_write(const char *file, const char *text)
{
	size_t fl = strlen(file) + 8;
	char *tmp = malloc(fl);
	if (!tmp)
		return;
	snprintf(tmp, fl, "%s.tmp", file);
	FILE *f = fopen(tmp, "w");
	int ok = f && fputs(text, f) >= 0 && fflush(f) == 0 && fsync(fileno(f)) == 0;
	if (f)
		ok = fclose(f) == 0 && ok;
	if (ok && rename(tmp, file) != 0)
		ok = 0;
	if (!ok) {
		int e = errno;
		unlink(tmp);
		fprintf(stderr, "hafen: kill switch state: cannot write %s: %s\n", file, strerror(e));
	}
	free(tmp);
}

/* One writer thread, started on the first save. The caller only swaps the
 * newest snapshot into the slot: it never waits for the disk. */
static void *killswitch_save_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&killswitch_save_lock);
	for (;;) {
		while (!killswitch_pending_text)
			pthread_cond_wait(&killswitch_save_cond, &killswitch_save_lock);
		char *file = killswitch_pending_file, *text = killswitch_pending_text;
		killswitch_pending_file = killswitch_pending_text = NULL;
		killswitch_saving = 1;
		pthread_mutex_unlock(&killswitch_save_lock);
		killswitch_write(file, text);
		free(file);
		killswitch_json_free(text);
		pthread_mutex_lock(&killswitch_save_lock);
		killswitch_saving = 0;
		pthread_cond_broadcast(&killswitch_save_cond);
	}
	return NULL;
}

int killswitch_save_async(const char *file)
{
	json_t *list = killswitch_list();
	json_t *root = list ? json_pack("{s:i, s:o}", "version", 1, "switches", list) : NULL;
	char *text = root ? json_dumps(root, JSON_INDENT(1)) : NULL;
	json_decref(root);
	char *f = text ? strdup(file) : NULL;
	if (!f) {
		killswitch_json_free(text);
		return -1;
	}
	pthread_mutex_lock(&killswitch_save_lock);
	if (!killswitch_writer_started) {
		pthread_t t;
		pthread_attr_t attr;
		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		killswitch_writer_started = pthread_create(&t, &attr, killswitch_save_main, NULL) == 0;
		pthread_attr_destroy(&attr);
	}
	if (!killswitch_writer_started) {
		pthread_mutex_unlock(&killswitch_save_lock);
		free(f);
		killswitch_json_free(text);
		return -1;
	}
	free(killswitch_pending_file);
	killswitch_json_free(killswitch_pending_text);
	killswitch_pending_file = f;
	killswitch_pending_text = text;
	pthread_cond_broadcast(&killswitch_save_cond);
	pthread_mutex_unlock(&killswitch_save_lock);
	return 0;
}

void killswitch_save_wait(void)
{
	pthread_mutex_lock(&killswitch_save_lock);
	while (killswitch_pending_text || killswitch_saving)
		pthread_cond_wait(&killswitch_save_cond, &killswitch_save_lock);
	pthread_mutex_unlock(&killswitch_save_lock);
}
