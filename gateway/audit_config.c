/* The "audit" section of hafen.json. One table row per key; errors name
 * the file, the JSON path and what was expected. */
#include "config.h"

#include <arpa/inet.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/audit.h"

enum audit_config_type {
	AUDIT_CONFIG_TYPE_PATH,
	AUDIT_CONFIG_TYPE_UINT,
	AUDIT_CONFIG_TYPE_DURABILITY,
	AUDIT_CONFIG_TYPE_CLIENT_ADDR,
};

struct audit_config_key {
	const char *name;
	enum audit_config_type type;
	size_t off;
	uint64_t max; /* UINT: largest value accepted */
};

#define K_PATH(n, m) { n, AUDIT_CONFIG_TYPE_PATH, offsetof(struct audit_config, m), 0 }

static const struct audit_config_key audit_config_keys[] = {
	K_PATH("database", db_path),
	K_PATH("checkpoints", checkpoint_path),
	K_PATH("signing_key", signing_key_path),
	K_PATH("master_key", master_key_path),
	K_PATH("hmac_key", hmac_key_path),
	{ "durability", AUDIT_CONFIG_TYPE_DURABILITY, offsetof(struct audit_config, durability), 0 },
	{ "checkpoint_every", AUDIT_CONFIG_TYPE_UINT, offsetof(struct audit_config, checkpoint_every), UINT32_MAX },
	{ "checkpoint_seconds", AUDIT_CONFIG_TYPE_UINT, offsetof(struct audit_config, checkpoint_seconds), 86400 },
	{ "client_address", AUDIT_CONFIG_TYPE_CLIENT_ADDR, offsetof(struct audit_config, client_addr), 0 },
	{ "queue_max", AUDIT_CONFIG_TYPE_UINT, offsetof(struct audit_config, queue_max), 1u << 24 },
	{ "max_pages", AUDIT_CONFIG_TYPE_UINT, offsetof(struct audit_config, max_pages), UINT32_MAX },
};

static const char *const audit_config_durability_names[] = {
	[AUDIT_DURABILITY_BATCH] = "batch",
	[AUDIT_DURABILITY_REQUEST] = "request",
};

static const char *const audit_config_client_addr_names[] = {
	[AUDIT_CLIENT_ADDR_FULL] = "full",
	[AUDIT_CLIENT_ADDR_TRUNCATED] = "truncated",
	[AUDIT_CLIENT_ADDR_NONE] = "none",
};

void audit_config_defaults(struct audit_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->durability = AUDIT_DURABILITY_REQUEST;
	cfg->checkpoint_every = 10000;
	cfg->checkpoint_seconds = 60;
	cfg->client_addr = AUDIT_CLIENT_ADDR_TRUNCATED;
	cfg->queue_max = 65536;
}

void audit_config_clear(struct audit_config *cfg)
{
	for (size_t i = 0; i < sizeof audit_config_keys / sizeof audit_config_keys[0]; i++)
		if (audit_config_keys[i].type == AUDIT_CONFIG_TYPE_PATH)
			free(*(char **)((char *)cfg + audit_config_keys[i].off));
	memset(cfg, 0, sizeof *cfg);
}

/* A relative path names a file beside the config file, like every other
 * path in hafen.json (config.c), not one in the process's working folder. */
static char *audit_config_path(const char *file, const char *p)
{
	const char *slash = file ? strrchr(file, '/') : NULL;
	if (p[0] == '/' || !slash)
		return strdup(p);
	size_t dl = slash == file ? 1 : (size_t)(slash - file);
	size_t n = dl + strlen(p) + 2;
	char *r = malloc(n);
	if (r)
		snprintf(r, n, "%.*s%s%s", (int)dl, file, slash == file ? "" : "/", p);
	return r;
}

static int audit_config_enum(const json_t *v, const char *const *names, size_t n)
{
	const char *s = json_string_value(v);
	for (size_t i = 0; s && i < n; i++)
		if (strcmp(s, names[i]) == 0)
			return (int)i;
	return -1;
}

int audit_config_parse(struct audit_config *cfg, const json_t *audit,
    const char *file, char *err, size_t errlen)
{
	const char *key;
	json_t *v;

	if (!json_is_object(audit)) {
		snprintf(err, errlen, "%s: audit: expected an object", file);
		return -1;
	}
	json_object_foreach((json_t *)audit, key, v) {
		const struct audit_config_key *k = NULL;
		for (size_t i = 0; i < sizeof audit_config_keys / sizeof audit_config_keys[0]; i++)
			if (strcmp(key, audit_config_keys[i].name) == 0)
				k = &audit_config_keys[i];
		if (!k) {
			snprintf(err, errlen, "%s: audit.%s: unknown key", file, key);
			return -1;
		}
		char *field = (char *)cfg + k->off;
		int e;
		switch (k->type) {
		case AUDIT_CONFIG_TYPE_PATH:
			if (!json_is_string(v) || json_string_length(v) == 0) {
				snprintf(err, errlen, "%s: audit.%s: expected a file path", file, key);
				return -1;
			}
			free(*(char **)field);
			if (!(*(char **)field = audit_config_path(file, json_string_value(v)))) {
				snprintf(err, errlen, "%s: out of memory", file);
				return -1;
			}
			break;
		case AUDIT_CONFIG_TYPE_UINT: {
			json_int_t x = json_integer_value(v);
			if (!json_is_integer(v) || x < 0 || (uint64_t)x > k->max) {
				snprintf(err, errlen, "%s: audit.%s: expected an integer from 0 to %llu",
				    file, key, (unsigned long long)k->max);
				return -1;
			}
			*(uint32_t *)field = (uint32_t)x;
			break;
		}
		case AUDIT_CONFIG_TYPE_DURABILITY:
			if ((e = audit_config_enum(v, audit_config_durability_names, 2)) < 0) {
				snprintf(err, errlen, "%s: audit.%s: expected one of request, batch", file, key);
				return -1;
			}
			*(enum audit_durability *)field = (enum audit_durability)e;
			break;
		case AUDIT_CONFIG_TYPE_CLIENT_ADDR:
			if ((e = audit_config_enum(v, audit_config_client_addr_names, 3)) < 0) {
				snprintf(err, errlen, "%s: audit.%s: expected one of full, truncated, none", file, key);
				return -1;
			}
			*(enum audit_client_addr *)field = (enum audit_client_addr)e;
			break;
		}
	}
	if (!cfg->db_path || !cfg->checkpoint_path || !cfg->signing_key_path) {
		snprintf(err, errlen, "%s: audit: expected database, checkpoints and signing_key", file);
		return -1;
	}
	return 0;
}

/* Truncation keeps the network (IPv4 /24, IPv6 /48): enough to tell sites
 * apart, not hosts (GDPR Art. 5(1)(c)). */
void audit_config_client_addr(enum audit_client_addr mode, const char *addr,
    char *out, size_t cap)
{
	unsigned char b[16];
	if (cap == 0)
		return;
	if (!addr || mode == AUDIT_CLIENT_ADDR_NONE) {
		out[0] = 0;
		return;
	}
	if (mode == AUDIT_CLIENT_ADDR_FULL) {
		/* per request on the loop: a copy, not a format */
		size_t n = strnlen(addr, cap - 1);
		memcpy(out, addr, n);
		out[n] = 0;
		return;
	}
	if (inet_pton(AF_INET, addr, b) == 1) {
		/* inet_pton took four plain decimal octets (no leading zeros),
		 * so the text up to the last dot is what inet_ntop would print:
		 * copy it instead of formatting the address again per request */
		const char *dot = strrchr(addr, '.');
		size_t n = dot ? (size_t)(dot - addr) + 1 : 0;
		if (n && n + 2 <= cap) {
			memcpy(out, addr, n);
			out[n] = '0';
			out[n + 1] = 0;
			return;
		}
		b[3] = 0;
		inet_ntop(AF_INET, b, out, (socklen_t)cap);
		return;
	}
	if (inet_pton(AF_INET6, addr, b) == 1) {
		memset(b + 6, 0, 10);
		inet_ntop(AF_INET6, b, out, (socklen_t)cap);
		return;
	}
	snprintf(out, cap, "%s", ""); /* not an address: store nothing */
}
