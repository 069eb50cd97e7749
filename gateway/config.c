/* hafen configuration. Every object in the JSON file is described by a
 * table of fields (name, type, where it lands in the struct, bounds); one
 * generic walker applies the tables, so adding a key is one table row.
 * Errors name the file, the JSON path and what was expected, and the first
 * error wins: an operator fixes one line at a time. */
#include "gwconfig.h"
#include "purpose.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

enum config_type {
	CONFIG_TYPE_INT,
	CONFIG_TYPE_BOOL,
	CONFIG_TYPE_STRING,      /* non-empty string */
	CONFIG_TYPE_STRING_NULL, /* string or null */
	CONFIG_TYPE_PATH,        /* string, resolved against the config folder */
	CONFIG_TYPE_PATH_NULL,
	CONFIG_TYPE_ENUM,
	CONFIG_TYPE_OBJECT,
	CONFIG_TYPE_ARRAY,       /* array of objects */
	CONFIG_TYPE_PATH_LIST,   /* array of file paths, resolved; count at count_offset */
	CONFIG_TYPE_JSON_OBJECT, /* an object kept as JSON for its own parser */
	CONFIG_TYPE_STRING_LIST, /* array of non-empty strings; count at count_offset */
};

struct config_ctx {
	const char *file;
	const char *dir;
	char *err;
	size_t errlen;
};

struct config_object;

struct config_field {
	const char *name;
	enum config_type type;
	size_t offset;
	int required;
	long long min, max;              /* CONFIG_TYPE_INT */
	const char *const *choices;      /* CONFIG_TYPE_ENUM, NULL-terminated */
	const struct config_object *sub; /* CONFIG_TYPE_OBJECT / ARRAY */
	size_t count_offset;             /* CONFIG_TYPE_ARRAY: where n lands */
	int (*check)(struct config_ctx *ctx, const char *path, void *obj);
	size_t presence_offset;          /* CONFIG_TYPE_OBJECT: int set to 1 when present (0 = none) */
};

struct config_object {
	const struct config_field *fields;
	size_t size;
	void (*defaults)(void *obj);
	/* Cross-field checks after all fields are read. */
	int (*finish)(struct config_ctx *ctx, const char *path, void *obj);
};

static int config_fail(struct config_ctx *ctx, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int config_fail(struct config_ctx *ctx, const char *path, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(ctx->err, ctx->errlen, "%s: %s%s", ctx->file, path, *path ? ": " : "");
	if (n < 0 || (size_t)n >= ctx->errlen)
		return -1;
	va_start(ap, fmt);
	vsnprintf(ctx->err + n, ctx->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

static char *config_resolve_path(struct config_ctx *ctx, const char *p)
{
	if (p[0] == '/' || !ctx->dir || !*ctx->dir)
		return strdup(p);
	size_t n = strlen(ctx->dir) + strlen(p) + 2;
	char *r = malloc(n);
	if (r)
		snprintf(r, n, "%s/%s", ctx->dir, p);
	return r;
}

/* Builds a JSON path for messages; long paths are cut, never overflow. */
static void config_path(char *out, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void config_path(char *out, size_t n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(out, n, fmt, ap);
	va_end(ap);
}

/* ---- checks and derived values ---- */

static int config_check_listener(struct config_ctx *ctx, const char *path, void *obj)
{
	struct config_listener *l = obj;
	if (l->plain && l->has_tls)
		return config_fail(ctx, path, "a plain listener must not have \"tls\"");
	if (!l->plain && !l->has_tls)
		return config_fail(ctx, path, "expected \"tls\" (or \"plain\": true for plain HTTP)");
	if (l->has_tls && l->tls.n_certificates == 0) {
		char p[256];
		config_path(p, sizeof p, "%s.tls.certificates", path);
		return config_fail(ctx, p, "expected at least one certificate");
	}
	if (l->has_tls && l->tls.client_auth != CONFIG_CLIENT_AUTH_NONE && !l->tls.client_ca) {
		char p[256];
		config_path(p, sizeof p, "%s.tls.client_ca", path);
		return config_fail(ctx, p, "expected a CA file when client_auth is optional or required");
	}
	return 0;
}

/* Splits http[s]://host[:port][/base] into the derived fields. */
static int config_parse_url(struct config_ctx *ctx, const char *p, const char *url, int *tls,
    char **host, int *port, char **base_path, char **host_header)
{
	const char *s = url;
	if (strncmp(s, "http://", 7) == 0) {
		*tls = 0;
		s += 7;
	} else if (strncmp(s, "https://", 8) == 0) {
		*tls = 1;
		s += 8;
	} else {
		return config_fail(ctx, p, "expected a string starting with http:// or https://");
	}
	const char *hs = s, *he;
	if (*s == '[') {
		he = strchr(s, ']');
		if (!he)
			return config_fail(ctx, p, "expected a closing ] after an IPv6 address");
		hs = s + 1;
		s = he + 1;
	} else {
		while (*s && *s != ':' && *s != '/')
			s++;
		he = s;
	}
	if (he == hs)
		return config_fail(ctx, p, "expected a host name after the scheme");
	*host = strndup(hs, (size_t)(he - hs));
	*port = *tls ? 443 : 80;
	if (*s == ':') {
		char *end;
		errno = 0;
		long port_ = strtol(s + 1, &end, 10);
		if (end == s + 1 || errno || port_ < 1 || port_ > 65535 || (*end && *end != '/'))
			return config_fail(ctx, p, "expected a port from 1 to 65535 after the host");
		*port = (int)port_;
		s = end;
	} else if (*s && *s != '/') {
		return config_fail(ctx, p, "expected :port or /path after the host");
	}
	size_t bl = strlen(s);
	while (bl > 0 && s[bl - 1] == '/')
		bl--;
	*base_path = strndup(s, bl);
	if (!*host || !*base_path)
		return config_fail(ctx, p, "out of memory");
	for (const char *c = *base_path; *c; c++)
		if ((unsigned char)*c <= ' ' || *c == 0x7f || *c == '?' || *c == '#')
			return config_fail(ctx, p, "expected a URL path without spaces, query or fragment");
	size_t hl = strlen(url) + 8;
	*host_header = malloc(hl);
	if (!*host_header)
		return config_fail(ctx, p, "out of memory");
	int v6 = strchr(*host, ':') != NULL;
	int defport = *port == (*tls ? 443 : 80);
	if (defport)
		snprintf(*host_header, hl, v6 ? "[%s]" : "%s", *host);
	else
		snprintf(*host_header, hl, v6 ? "[%s]:%d" : "%s:%d", *host, *port);
	return 0;
}

static int config_check_instance(struct config_ctx *ctx, const char *path, void *obj)
{
	struct config_instance *in = obj;
	char p[256];
	config_path(p, sizeof p, "%s.url", path);
	return config_parse_url(ctx, p, in->url, &in->tls, &in->host, &in->port, &in->base_path,
	    &in->host_header);
}

static char *config_strdup_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* "Name: value" with an RFC 9110 token for the name and no control
 * characters in the value: it is written into the upstream request head. */
static int config_valid_header_line(const char *h)
{
	const char *c = h;
	while (*c && *c != ':' && (isalnum((unsigned char)*c) || strchr("!#$%&'*+-.^_`|~", *c)))
		c++;
	if (c == h || *c != ':')
		return 0;
	for (c++; *c; c++)
		if (((unsigned char)*c < ' ' && *c != '\t') || *c == 0x7f)
			return 0;
	return 1;
}

/* An upstream is a pool: either one "url" (a pool of one, the form every
 * older config uses) or "instances". Instances inherit the pool's TLS
 * settings. The class ceiling defaults by location (docs/upstreams.md):
 * on the premises everything, elsewhere only what is not personal data. */
static int config_check_upstream(struct config_ctx *ctx, const char *path, void *obj)
{
	struct config_upstream *u = obj;
	char p[256];
	if (u->url && u->n_instances) {
		config_path(p, sizeof p, "%s.instances", path);
		return config_fail(ctx, p, "expected either \"url\" or \"instances\", not both");
	}
	if (!u->url && !u->n_instances) {
		config_path(p, sizeof p, "%s.url", path);
		return config_fail(ctx, p, "missing, expected a non-empty string (or \"instances\")");
	}
	if (u->url) {
		config_path(p, sizeof p, "%s.url", path);
		u->instances = calloc(1, sizeof *u->instances);
		if (!u->instances)
			return config_fail(ctx, p, "out of memory");
		u->n_instances = 1;
		struct config_instance *in = u->instances;
		in->url = strdup(u->url);
		in->weight = 1;
		if (!in->url || config_parse_url(ctx, p, in->url, &in->tls, &in->host, &in->port,
		    &in->base_path, &in->host_header) < 0)
			return in->url ? -1 : config_fail(ctx, p, "out of memory");
	}
	for (size_t i = 0; i < u->n_instances; i++) {
		struct config_instance *in = &u->instances[i];
		if ((!in->ca_file && u->ca_file && !(in->ca_file = strdup(u->ca_file))) ||
		    (!in->server_name && u->server_name && !(in->server_name = strdup(u->server_name))))
			return config_fail(ctx, path, "out of memory");
	}
	const struct config_instance *first = &u->instances[0];
	u->tls = first->tls;
	u->port = first->port;
	u->host = config_strdup_null(first->host);
	u->base_path = config_strdup_null(first->base_path);
	u->host_header = config_strdup_null(first->host_header);
	if (!u->host || !u->base_path || !u->host_header)
		return config_fail(ctx, path, "out of memory");
	static const int class_default[] = {
		[CONFIG_LOCATION_ON_PREM] = 3,       /* DATA_CLASS_RESTRICTED */
		[CONFIG_LOCATION_EU] = 1,            /* DATA_CLASS_INTERNAL */
		[CONFIG_LOCATION_THIRD_COUNTRY] = 0, /* DATA_CLASS_PUBLIC */
	};
	if (u->max_data_class < 0)
		u->max_data_class = class_default[u->location];
	if (u->location == CONFIG_LOCATION_THIRD_COUNTRY && u->transfer_basis < 0) {
		config_path(p, sizeof p, "%s.transfer_basis", path);
		return config_fail(ctx, p, "missing, expected one of art45_adequacy, art46_safeguards, "
		    "art49_derogation for a third_country upstream (GDPR Art. 44)");
	}
	/* GDPR Art. 9 data and the like stay on the premises (architecture.md). */
	if (u->max_data_class >= 3 && u->location != CONFIG_LOCATION_ON_PREM) {
		config_path(p, sizeof p, "%s.max_data_class", path);
		return config_fail(ctx, p, "expected at most confidential: restricted data never leaves on_prem");
	}
	if (u->auth_header && !config_valid_header_line(u->auth_header)) {
		config_path(p, sizeof p, "%s.auth_header", path);
		return config_fail(ctx, p, "expected \"Name: value\" without line breaks");
	}
	if (u->health_path[0] != '/' || strpbrk(u->health_path, " \t\r\n")) {
		config_path(p, sizeof p, "%s.health_path", path);
		return config_fail(ctx, p, "expected a path starting with / without spaces");
	}
	return 0;
}

static int config_check_key(struct config_ctx *ctx, const char *path, void *obj)
{
	struct config_key *k = obj;
	char p[256];
	config_path(p, sizeof p, "%s.sha256", path);
	if (strlen(k->sha256_hex) != 64)
		return config_fail(ctx, p, "expected 64 lowercase hex digits");
	for (int i = 0; i < 32; i++) {
		int v = 0;
		for (int j = 0; j < 2; j++) {
			char c = k->sha256_hex[2 * i + j];
			int d;
			if (c >= '0' && c <= '9')
				d = c - '0';
			else if (c >= 'a' && c <= 'f')
				d = c - 'a' + 10;
			else
				return config_fail(ctx, p, "expected 64 lowercase hex digits");
			v = v * 16 + d;
		}
		k->sha256[i] = (unsigned char)v;
	}
	return 0;
}

/* "identities": a client certificate, by subject CN or by SHA-256
 * fingerprint (hex, colons allowed as openssl prints them), stands for a
 * key (gateway/keycache.c looks them up after the TLS handshake). */
static int config_check_identity(struct config_ctx *ctx, const char *path, void *obj)
{
	struct config_key *k = obj;
	if (!k->cn == !k->cert_sha256)
		return config_fail(ctx, path, "expected exactly one of \"cn\" and \"cert_sha256\"");
	if (k->cert_sha256) {
		char hex[65];
		size_t n = 0;
		for (const char *c = k->cert_sha256; *c; c++) {
			if (*c == ':')
				continue;
			int h = (*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f') || (*c >= 'A' && *c <= 'F');
			if (!h || n == 64)
				n = 65;
			if (n >= 64)
				break;
			hex[n++] = (char)tolower((unsigned char)*c);
		}
		if (n != 64) {
			char p[256];
			config_path(p, sizeof p, "%s.cert_sha256", path);
			return config_fail(ctx, p, "expected a SHA-256 fingerprint: 64 hex digits, colons allowed");
		}
		hex[64] = 0;
		memcpy(k->cert_sha256, hex, 65); /* never longer than the original */
	}
	return 0;
}

/* ---- defaults ---- */

static void config_default_key(void *obj)
{
	struct config_key *k = obj;
	k->max_class = 3; /* DATA_CLASS_RESTRICTED: no ceiling */
}

static void config_default_listener(void *obj)
{
	struct config_listener *l = obj;
	l->tls.client_auth = CONFIG_CLIENT_AUTH_NONE;
}

static void config_default_upstream(void *obj)
{
	struct config_upstream *u = obj;
	u->connect_timeout_ms = 2000;
	u->first_byte_timeout_ms = 60000;
	u->total_timeout_ms = 600000;
	u->max_idle_connections = 64;
	u->max_data_class = -1;
	u->transfer_basis = -1;
	u->retries = 2;
	u->fail_threshold = 3;
	u->eject_ms = 5000;
	u->health_path = strdup("/v1/models");
	u->health_interval_ms = 0;
}

static void config_default_instance(void *obj)
{
	struct config_instance *in = obj;
	in->weight = 1;
}

static void config_default_root(void *obj)
{
	struct config *c = obj;
	c->workers = 1;
	c->admin.address = strdup("127.0.0.1");
	c->admin.port = 9090;
	c->limits.max_header_bytes = 16384;
	c->limits.max_body_bytes = 8388608;
	c->limits.max_connections = 4096;
	c->limits.header_timeout_ms = 10000;
	c->limits.request_timeout_ms = 300000;
	c->limits.idle_timeout_ms = 60000;
	c->access_log = strdup("stderr");
	c->drain_timeout_ms = 30000;
}

static const char *const config_data_class_names[] = {"public", "internal", "confidential", "restricted", NULL};

static int config_list_has(char **list, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i], s) == 0)
			return 1;
	return 0;
}

/* Resolves route targets to upstreams and class names to a mask. */
static int config_finish_routes(struct config_ctx *ctx, struct config *c)
{
	char p[256];
	for (size_t i = 0; i < c->n_routes; i++) {
		struct config_route *r = &c->routes[i];
		r->class_mask = r->n_data_classes ? 0 : ~0u;
		for (size_t k = 0; k < r->n_data_classes; k++) {
			int found = strcmp(r->data_classes[k], "*") == 0 ? 4 : -1;
			for (int d = 0; found < 0 && config_data_class_names[d]; d++)
				if (strcmp(r->data_classes[k], config_data_class_names[d]) == 0)
					found = d;
			if (found < 0) {
				config_path(p, sizeof p, "routes[%zu].data_classes[%zu]", i, k);
				return config_fail(ctx, p, "expected one of public, internal, confidential, restricted, *");
			}
			r->class_mask |= found == 4 ? ~0u : 1u << found;
		}
		if (r->n_targets == 0) {
			config_path(p, sizeof p, "routes[%zu].targets", i);
			return config_fail(ctx, p, "expected at least one target");
		}
		for (size_t t = 0; t < r->n_targets; t++) {
			struct config_route_target *tg = &r->targets[t];
			tg->upstream_idx = -1;
			for (size_t u = 0; u < c->n_upstreams; u++)
				if (strcmp(c->upstreams[u].name, tg->upstream) == 0)
					tg->upstream_idx = (int)u;
			if (tg->upstream_idx < 0) {
				config_path(p, sizeof p, "routes[%zu].targets[%zu].upstream", i, t);
				return config_fail(ctx, p, "expected the name of an upstream");
			}
			const struct config_upstream *up = &c->upstreams[tg->upstream_idx];
			const char *m = tg->model ? tg->model : r->model;
			/* A discovering pool may list it at run time (router.c checks). */
			if (up->n_models && !up->discover_models && !config_list_has(up->models, up->n_models, m)) {
				config_path(p, sizeof p, "routes[%zu].targets[%zu].model", i, t);
				return config_fail(ctx, p, "expected a model that upstream %s serves (its \"models\", or "
				    "\"discover_models\": true)", up->name);
			}
		}
	}
	return 0;
}

static int config_finish_root(struct config_ctx *ctx, const char *path, void *obj)
{
	struct config *c = obj;
	if (c->n_listeners == 0)
		return config_fail(ctx, "listeners", "expected at least one listener");
	if (c->n_upstreams == 0)
		return config_fail(ctx, "upstreams", "expected at least one upstream");
	for (size_t i = 0; i < c->n_upstreams; i++)
		for (size_t j = 0; j < i; j++)
			if (strcmp(c->upstreams[i].name, c->upstreams[j].name) == 0) {
				char p[64];
				config_path(p, sizeof p, "upstreams[%zu].name", i);
				return config_fail(ctx, p, "expected a name not used by another upstream");
			}
	if (c->purposes_json && !(c->purposes = purpose_registry_parse(c->purposes_json, ctx->file,
	    ctx->err, ctx->errlen)))
		return -1;
	for (size_t i = 0; i < c->n_keys; i++)
		for (size_t j = 0; j < i; j++)
			if (strcmp(c->keys[i].sha256_hex, c->keys[j].sha256_hex) == 0) {
				char p[64];
				config_path(p, sizeof p, "keys[%zu].sha256", i);
				return config_fail(ctx, p, "expected a key hash not used by another key");
			}
	if (config_finish_routes(ctx, c) < 0)
		return -1;
	if (c->access_log && strcmp(c->access_log, "stderr") != 0 && strcmp(c->access_log, "off") != 0) {
		char *r = config_resolve_path(ctx, c->access_log);
		free(c->access_log);
		c->access_log = r;
	}
	return 0;
}

/* ---- tables ---- */

static const char *const config_client_auth_names[] = {"none", "optional", "required", NULL};
/* enum data_class order (policies/policy-t.h). */

#define F(type_, name_, member_) .name = name_, .type = type_, .offset = offsetof(type_s, member_)

#define type_s struct config_cert
static const struct config_field config_cert_fields[] = {
	{F(CONFIG_TYPE_PATH, "cert", cert), .required = 1},
	{F(CONFIG_TYPE_PATH, "key", key), .required = 1},
	{0},
};
#undef type_s
static const struct config_object config_cert_object = {config_cert_fields, sizeof(struct config_cert), NULL, NULL};

#define type_s struct config_tls
static const struct config_field config_tls_fields[] = {
	{F(CONFIG_TYPE_ARRAY, "certificates", certificates), .required = 1, .sub = &config_cert_object,
	    .count_offset = offsetof(struct config_tls, n_certificates)},
	{F(CONFIG_TYPE_PATH_NULL, "client_ca", client_ca)},
	{F(CONFIG_TYPE_ENUM, "client_auth", client_auth), .choices = config_client_auth_names},
	{0},
};
#undef type_s
static const struct config_object config_tls_object = {config_tls_fields, sizeof(struct config_tls), NULL, NULL};

#define type_s struct config_listener
static const struct config_field config_listener_fields[] = {
	{F(CONFIG_TYPE_STRING, "address", address), .required = 1},
	{F(CONFIG_TYPE_INT, "port", port), .required = 1, .min = 1, .max = 65535},
	{F(CONFIG_TYPE_BOOL, "plain", plain)},
	{F(CONFIG_TYPE_OBJECT, "tls", tls), .sub = &config_tls_object,
	    .presence_offset = offsetof(struct config_listener, has_tls)},
	{0},
};
#undef type_s
static const struct config_object config_listener_object = {config_listener_fields,
    sizeof(struct config_listener), config_default_listener, config_check_listener};

#define type_s struct config_admin
static const struct config_field config_admin_fields[] = {
	{F(CONFIG_TYPE_STRING, "address", address)},
	{F(CONFIG_TYPE_INT, "port", port), .min = 0, .max = 65535},
	{0},
};
#undef type_s
static const struct config_object config_admin_object = {config_admin_fields, sizeof(struct config_admin), NULL, NULL};

#define type_s struct config_limits
static const struct config_field config_limits_fields[] = {
	{F(CONFIG_TYPE_INT, "max_header_bytes", max_header_bytes), .min = 1024, .max = 1048576},
	{F(CONFIG_TYPE_INT, "max_body_bytes", max_body_bytes), .min = 1024, .max = 1073741824},
	{F(CONFIG_TYPE_INT, "max_connections", max_connections), .min = 1, .max = 1000000},
	{F(CONFIG_TYPE_INT, "header_timeout_ms", header_timeout_ms), .min = 1, .max = 3600000},
	{F(CONFIG_TYPE_INT, "request_timeout_ms", request_timeout_ms), .min = 1, .max = 86400000},
	{F(CONFIG_TYPE_INT, "idle_timeout_ms", idle_timeout_ms), .min = 1, .max = 86400000},
	{0},
};
#undef type_s
static const struct config_object config_limits_object = {config_limits_fields, sizeof(struct config_limits), NULL, NULL};

static const char *const config_location_names[] = {"on_prem", "eu", "third_country", NULL};
static const char *const config_transfer_basis_names[] = {"art45_adequacy", "art46_safeguards",
	"art49_derogation", NULL};

#define type_s struct config_instance
static const struct config_field config_instance_fields[] = {
	{F(CONFIG_TYPE_STRING, "url", url), .required = 1},
	{F(CONFIG_TYPE_INT, "weight", weight), .min = 1, .max = 1000},
	{F(CONFIG_TYPE_PATH_NULL, "ca_file", ca_file)},
	{F(CONFIG_TYPE_STRING_NULL, "server_name", server_name)},
	{0},
};
#undef type_s
static const struct config_object config_instance_object = {config_instance_fields,
    sizeof(struct config_instance), config_default_instance, config_check_instance};

#define type_s struct config_upstream
static const struct config_field config_upstream_fields[] = {
	{F(CONFIG_TYPE_STRING, "name", name), .required = 1},
	{F(CONFIG_TYPE_STRING, "url", url)},
	{F(CONFIG_TYPE_PATH_NULL, "ca_file", ca_file)},
	{F(CONFIG_TYPE_STRING_NULL, "server_name", server_name)},
	{F(CONFIG_TYPE_INT, "connect_timeout_ms", connect_timeout_ms), .min = 1, .max = 3600000},
	{F(CONFIG_TYPE_INT, "first_byte_timeout_ms", first_byte_timeout_ms), .min = 1, .max = 86400000},
	{F(CONFIG_TYPE_INT, "total_timeout_ms", total_timeout_ms), .min = 1, .max = 86400000},
	{F(CONFIG_TYPE_INT, "max_idle_connections", max_idle_connections), .min = 0, .max = 100000},
	{F(CONFIG_TYPE_ARRAY, "instances", instances), .sub = &config_instance_object,
	    .count_offset = offsetof(struct config_upstream, n_instances)},
	{F(CONFIG_TYPE_STRING_NULL, "auth_header", auth_header)},
	{F(CONFIG_TYPE_ENUM, "location", location), .choices = config_location_names},
	{F(CONFIG_TYPE_ENUM, "max_data_class", max_data_class), .choices = config_data_class_names},
	{F(CONFIG_TYPE_ENUM, "transfer_basis", transfer_basis), .choices = config_transfer_basis_names},
	{F(CONFIG_TYPE_STRING_LIST, "models", models), .count_offset = offsetof(struct config_upstream, n_models)},
	{F(CONFIG_TYPE_INT, "retries", retries), .min = 0, .max = 8},
	{F(CONFIG_TYPE_INT, "fail_threshold", fail_threshold), .min = 1, .max = 1000},
	{F(CONFIG_TYPE_INT, "eject_ms", eject_ms), .min = 1, .max = 3600000},
	{F(CONFIG_TYPE_STRING, "health_path", health_path)},
	{F(CONFIG_TYPE_INT, "health_interval_ms", health_interval_ms), .min = 0, .max = 3600000},
	{F(CONFIG_TYPE_BOOL, "discover_models", discover_models)},
	{0},
};
#undef type_s
static const struct config_object config_upstream_object = {config_upstream_fields,
    sizeof(struct config_upstream), config_default_upstream, config_check_upstream};

#define type_s struct config_key
static const struct config_field config_key_fields[] = {
	{F(CONFIG_TYPE_STRING, "name", name), .required = 1},
	{F(CONFIG_TYPE_STRING, "tenant", tenant), .required = 1},
	{F(CONFIG_TYPE_STRING, "purpose", purpose), .required = 1},
	{F(CONFIG_TYPE_STRING, "sha256", sha256_hex), .required = 1},
	{F(CONFIG_TYPE_ENUM, "class_floor", class_floor), .choices = config_data_class_names},
	{F(CONFIG_TYPE_ENUM, "max_class", max_class), .choices = config_data_class_names},
	{F(CONFIG_TYPE_INT, "rpm", rpm), .min = 0, .max = 1000000000},
	{F(CONFIG_TYPE_INT, "tpm", tpm), .min = 0, .max = 1000000000000},
	{F(CONFIG_TYPE_INT, "concurrency", concurrency), .min = 0, .max = 1000000},
	{0},
};
static const struct config_field config_identity_fields[] = {
	{F(CONFIG_TYPE_STRING, "name", name), .required = 1},
	{F(CONFIG_TYPE_STRING, "tenant", tenant), .required = 1},
	{F(CONFIG_TYPE_STRING, "purpose", purpose), .required = 1},
	{F(CONFIG_TYPE_STRING, "cn", cn)},
	{F(CONFIG_TYPE_STRING, "cert_sha256", cert_sha256)},
	{F(CONFIG_TYPE_ENUM, "class_floor", class_floor), .choices = config_data_class_names},
	{F(CONFIG_TYPE_ENUM, "max_class", max_class), .choices = config_data_class_names},
	{F(CONFIG_TYPE_INT, "rpm", rpm), .min = 0, .max = 1000000000},
	{F(CONFIG_TYPE_INT, "tpm", tpm), .min = 0, .max = 1000000000000},
	{F(CONFIG_TYPE_INT, "concurrency", concurrency), .min = 0, .max = 1000000},
	{0},
};
#undef type_s
static const struct config_object config_key_object = {config_key_fields, sizeof(struct config_key),
    config_default_key, config_check_key};
static const struct config_object config_identity_object = {config_identity_fields, sizeof(struct config_key),
    config_default_key, config_check_identity};

#define type_s struct config_policy
static const struct config_field config_policy_fields[] = {
	{F(CONFIG_TYPE_PATH_LIST, "packs", packs), .count_offset = offsetof(struct config_policy, n_packs)},
	{0},
};
#undef type_s
static const struct config_object config_policy_object = {config_policy_fields, sizeof(struct config_policy), NULL, NULL};

#define type_s struct config_route_target
static const struct config_field config_route_target_fields[] = {
	{F(CONFIG_TYPE_STRING, "upstream", upstream), .required = 1},
	{F(CONFIG_TYPE_STRING_NULL, "model", model)},
	{0},
};
#undef type_s
static const struct config_object config_route_target_object = {config_route_target_fields,
    sizeof(struct config_route_target), NULL, NULL};

#define type_s struct config_route
static const struct config_field config_route_fields[] = {
	{F(CONFIG_TYPE_STRING, "model", model), .required = 1},
	{F(CONFIG_TYPE_STRING_LIST, "data_classes", data_classes),
	    .count_offset = offsetof(struct config_route, n_data_classes)},
	{F(CONFIG_TYPE_STRING_LIST, "purposes", purposes), .count_offset = offsetof(struct config_route, n_purposes)},
	{F(CONFIG_TYPE_STRING_LIST, "tenants", tenants), .count_offset = offsetof(struct config_route, n_tenants)},
	{F(CONFIG_TYPE_ARRAY, "targets", targets), .required = 1, .sub = &config_route_target_object,
	    .count_offset = offsetof(struct config_route, n_targets)},
	{0},
};
#undef type_s
static const struct config_object config_route_object = {config_route_fields, sizeof(struct config_route), NULL, NULL};

#define type_s struct config
static const struct config_field config_root_fields[] = {
	{F(CONFIG_TYPE_INT, "workers", workers), .min = 1, .max = 256},
	{F(CONFIG_TYPE_ARRAY, "listeners", listeners), .required = 1, .sub = &config_listener_object,
	    .count_offset = offsetof(struct config, n_listeners)},
	{F(CONFIG_TYPE_OBJECT, "admin", admin), .sub = &config_admin_object},
	{F(CONFIG_TYPE_OBJECT, "limits", limits), .sub = &config_limits_object},
	{F(CONFIG_TYPE_ARRAY, "upstreams", upstreams), .required = 1, .sub = &config_upstream_object,
	    .count_offset = offsetof(struct config, n_upstreams)},
	{F(CONFIG_TYPE_ARRAY, "keys", keys), .required = 1, .sub = &config_key_object,
	    .count_offset = offsetof(struct config, n_keys)},
	{F(CONFIG_TYPE_STRING, "access_log", access_log)},
	{F(CONFIG_TYPE_STRING_NULL, "user", user)},
	{F(CONFIG_TYPE_INT, "drain_timeout_ms", drain_timeout_ms), .min = 0, .max = 3600000},
	{F(CONFIG_TYPE_OBJECT, "policy", policy), .sub = &config_policy_object},
	{F(CONFIG_TYPE_JSON_OBJECT, "audit", audit)},
	{F(CONFIG_TYPE_JSON_OBJECT, "transparency", transparency)},
	{F(CONFIG_TYPE_JSON_OBJECT, "purposes", purposes_json)},
	{F(CONFIG_TYPE_PATH_NULL, "key_store", key_store)},
	{F(CONFIG_TYPE_PATH_NULL, "usage_store", usage_store)},
	{F(CONFIG_TYPE_ARRAY, "identities", identities), .sub = &config_identity_object,
	    .count_offset = offsetof(struct config, n_identities)},
	{F(CONFIG_TYPE_ARRAY, "routes", routes), .sub = &config_route_object,
	    .count_offset = offsetof(struct config, n_routes)},
	{F(CONFIG_TYPE_PATH_NULL, "kill_state_file", kill_state_file)},
	{0},
};
#undef type_s
#undef F
static const struct config_object config_root_object = {config_root_fields, sizeof(struct config),
    config_default_root, config_finish_root};

/* ---- the walker ---- */

static int config_read_object(struct config_ctx *ctx, const char *path, json_t *j,
    const struct config_object *o, void *obj);

static const char *config_type_expect(const struct config_field *f)
{
	static const char *const names[] = {
		[CONFIG_TYPE_INT] = "an integer",
		[CONFIG_TYPE_BOOL] = "true or false",
		[CONFIG_TYPE_STRING] = "a non-empty string",
		[CONFIG_TYPE_STRING_NULL] = "a non-empty string or null",
		[CONFIG_TYPE_PATH] = "a file path (string)",
		[CONFIG_TYPE_PATH_NULL] = "a file path (string) or null",
		[CONFIG_TYPE_ENUM] = "a string",
		[CONFIG_TYPE_OBJECT] = "an object",
		[CONFIG_TYPE_ARRAY] = "an array of objects",
		[CONFIG_TYPE_PATH_LIST] = "an array of file paths (strings)",
		[CONFIG_TYPE_JSON_OBJECT] = "an object",
		[CONFIG_TYPE_STRING_LIST] = "an array of non-empty strings",
	};
	return names[f->type];
}

static int config_read_field(struct config_ctx *ctx, const char *path, json_t *v,
    const struct config_field *f, void *obj)
{
	char *at = (char *)obj + f->offset;
	switch (f->type) {
	case CONFIG_TYPE_INT: {
		if (!json_is_integer(v))
			return config_fail(ctx, path, "expected an integer from %lld to %lld", f->min, f->max);
		long long x = json_integer_value(v);
		if (x < f->min || x > f->max)
			return config_fail(ctx, path, "expected an integer from %lld to %lld", f->min, f->max);
		*(long long *)at = x;
		break;
	}
	case CONFIG_TYPE_BOOL:
		if (!json_is_boolean(v))
			return config_fail(ctx, path, "expected true or false");
		*(int *)at = json_is_true(v);
		break;
	case CONFIG_TYPE_STRING:
	case CONFIG_TYPE_STRING_NULL:
	case CONFIG_TYPE_PATH:
	case CONFIG_TYPE_PATH_NULL: {
		int nullable = f->type == CONFIG_TYPE_STRING_NULL || f->type == CONFIG_TYPE_PATH_NULL;
		char **dst = (char **)at;
		if (nullable && json_is_null(v)) {
			free(*dst);
			*dst = NULL;
			break;
		}
		if (!json_is_string(v) || json_string_length(v) == 0 ||
		    strlen(json_string_value(v)) != json_string_length(v))
			return config_fail(ctx, path, "expected %s", config_type_expect(f));
		free(*dst);
		if (f->type == CONFIG_TYPE_PATH || f->type == CONFIG_TYPE_PATH_NULL)
			*dst = config_resolve_path(ctx, json_string_value(v));
		else
			*dst = strdup(json_string_value(v));
		if (!*dst)
			return config_fail(ctx, path, "out of memory");
		break;
	}
	case CONFIG_TYPE_ENUM: {
		const char *s = json_is_string(v) ? json_string_value(v) : NULL;
		for (int i = 0; s && f->choices[i]; i++)
			if (strcmp(s, f->choices[i]) == 0) {
				*(int *)at = i;
				return 0;
			}
		char list[256] = "";
		for (int i = 0; f->choices[i]; i++) {
			if (i)
				strncat(list, ", ", sizeof list - strlen(list) - 1);
			strncat(list, f->choices[i], sizeof list - strlen(list) - 1);
		}
		return config_fail(ctx, path, "expected one of %s", list);
	}
	case CONFIG_TYPE_OBJECT:
		if (!json_is_object(v))
			return config_fail(ctx, path, "expected an object");
		if (f->presence_offset)
			*(int *)((char *)obj + f->presence_offset) = 1;
		return config_read_object(ctx, path, v, f->sub, at);
	case CONFIG_TYPE_ARRAY: {
		if (!json_is_array(v))
			return config_fail(ctx, path, "expected an array");
		size_t n = json_array_size(v);
		void *arr = n ? calloc(n, f->sub->size) : NULL;
		if (n && !arr)
			return config_fail(ctx, path, "out of memory");
		*(void **)at = arr;
		*(size_t *)((char *)obj + f->count_offset) = n;
		for (size_t i = 0; i < n; i++) {
			char p[256];
			config_path(p, sizeof p, "%s[%zu]", path, i);
			json_t *e = json_array_get(v, i);
			if (!json_is_object(e))
				return config_fail(ctx, p, "expected an object");
			if (config_read_object(ctx, p, e, f->sub, (char *)arr + i * f->sub->size) < 0)
				return -1;
		}
		break;
	}
	case CONFIG_TYPE_JSON_OBJECT:
		if (!json_is_object(v))
			return config_fail(ctx, path, "expected an object");
		json_decref(*(json_t **)at);
		*(json_t **)at = json_incref(v);
		break;
	case CONFIG_TYPE_STRING_LIST:
	case CONFIG_TYPE_PATH_LIST: {
		int resolve = f->type == CONFIG_TYPE_PATH_LIST;
		if (!json_is_array(v))
			return config_fail(ctx, path, "expected %s", config_type_expect(f));
		size_t n = json_array_size(v);
		char **arr = n ? calloc(n, sizeof *arr) : NULL;
		if (n && !arr)
			return config_fail(ctx, path, "out of memory");
		*(char ***)at = arr;
		*(size_t *)((char *)obj + f->count_offset) = n;
		for (size_t i = 0; i < n; i++) {
			char p[256];
			config_path(p, sizeof p, "%s[%zu]", path, i);
			json_t *e = json_array_get(v, i);
			if (!json_is_string(e) || json_string_length(e) == 0 ||
			    strlen(json_string_value(e)) != json_string_length(e))
				return config_fail(ctx, p, resolve ? "expected a file path (string)" : "expected a non-empty string");
			arr[i] = resolve ? config_resolve_path(ctx, json_string_value(e)) : strdup(json_string_value(e));
			if (!arr[i])
				return config_fail(ctx, p, "out of memory");
		}
		break;
	}
	}
	if (f->check && f->check(ctx, path, obj) < 0)
		return -1;
	return 0;
}

static int config_read_object(struct config_ctx *ctx, const char *path, json_t *j,
    const struct config_object *o, void *obj)
{
	const char *key;
	json_t *v;
	if (o->defaults)
		o->defaults(obj);
	/* Unknown keys are errors: a typo must not silently become a default. */
	json_object_foreach(j, key, v) {
		const struct config_field *f;
		for (f = o->fields; f->name; f++)
			if (strcmp(f->name, key) == 0)
				break;
		if (!f->name) {
			char p[256];
			config_path(p, sizeof p, "%s%s%s", path, *path ? "." : "", key);
			return config_fail(ctx, p, "unknown key");
		}
	}
	for (const struct config_field *f = o->fields; f->name; f++) {
		char p[256];
		config_path(p, sizeof p, "%s%s%s", path, *path ? "." : "", f->name);
		v = json_object_get(j, f->name);
		if (!v) {
			if (f->required)
				return config_fail(ctx, p, "missing, expected %s", config_type_expect(f));
			continue;
		}
		if (config_read_field(ctx, p, v, f, obj) < 0)
			return -1;
	}
	if (o->finish && o->finish(ctx, path, obj) < 0)
		return -1;
	return 0;
}

static void config_free_object(const struct config_object *o, void *obj)
{
	if (o == &config_upstream_object) {
		/* auth_header holds a credential: wipe it before it is freed. */
		struct config_upstream *u = obj;
		if (u->auth_header)
			explicit_bzero(u->auth_header, strlen(u->auth_header));
	}
	for (const struct config_field *f = o->fields; f->name; f++) {
		char *at = (char *)obj + f->offset;
		switch (f->type) {
		case CONFIG_TYPE_STRING:
		case CONFIG_TYPE_STRING_NULL:
		case CONFIG_TYPE_PATH:
		case CONFIG_TYPE_PATH_NULL:
			free(*(char **)at);
			break;
		case CONFIG_TYPE_OBJECT:
			config_free_object(f->sub, at);
			break;
		case CONFIG_TYPE_ARRAY: {
			char *arr = *(char **)at;
			size_t n = *(size_t *)((char *)obj + f->count_offset);
			for (size_t i = 0; arr && i < n; i++)
				config_free_object(f->sub, arr + i * f->sub->size);
			free(arr);
			break;
		}
		case CONFIG_TYPE_JSON_OBJECT:
			json_decref(*(json_t **)at);
			break;
		case CONFIG_TYPE_STRING_LIST:
		case CONFIG_TYPE_PATH_LIST: {
			char **arr = *(char ***)at;
			size_t n = *(size_t *)((char *)obj + f->count_offset);
			for (size_t i = 0; arr && i < n; i++)
				free(arr[i]);
			free(arr);
			break;
		}
		default:
			break;
		}
	}
	if (o == &config_upstream_object) {
		struct config_upstream *u = obj;
		free(u->host);
		free(u->base_path);
		free(u->host_header);
	}
	if (o == &config_instance_object) {
		struct config_instance *in = obj;
		free(in->host);
		free(in->base_path);
		free(in->host_header);
	}
}

static void config_free(struct config *c)
{
	if (!c)
		return;
	config_free_object(&config_root_object, c);
	purpose_registry_free(c->purposes);
	free(c->file);
	free(c->dir);
	free(c);
}

struct config *config_load_string(const char *text, size_t len, const char *file,
    const char *dir, char *err, size_t errlen)
{
	struct config_ctx ctx = {file, dir, err, errlen};
	json_error_t je;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (!root) {
		snprintf(err, errlen, "%s: line %d column %d: invalid JSON: %s", file, je.line, je.column, je.text);
		return NULL;
	}
	struct config *c = calloc(1, sizeof *c);
	if (!c) {
		json_decref(root);
		snprintf(err, errlen, "%s: out of memory", file);
		return NULL;
	}
	if (!json_is_object(root)) {
		config_fail(&ctx, "", "expected a JSON object at the top level");
		json_decref(root);
		free(c);
		return NULL;
	}
	int rc = config_read_object(&ctx, "", root, &config_root_object, c);
	json_decref(root);
	c->file = strdup(file);
	c->dir = strdup(dir ? dir : ".");
	atomic_init(&c->refs, 1);
	if (rc < 0) {
		config_free(c);
		return NULL;
	}
	return c;
}

struct config *config_load_file(const char *file, char *err, size_t errlen)
{
	FILE *f = fopen(file, "rb");
	if (!f) {
		snprintf(err, errlen, "%s: cannot open: %s", file, strerror(errno));
		return NULL;
	}
	char *buf = NULL;
	size_t len = 0, cap = 0;
	for (;;) {
		if (len + 4096 > cap) {
			cap = cap ? cap * 2 : 8192;
			if (cap > (64u << 20)) {
				snprintf(err, errlen, "%s: file larger than 64 MiB", file);
				free(buf);
				fclose(f);
				return NULL;
			}
			char *nb = realloc(buf, cap);
			if (!nb) {
				free(buf);
				fclose(f);
				snprintf(err, errlen, "%s: out of memory", file);
				return NULL;
			}
			buf = nb;
		}
		size_t n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0)
			break;
	}
	int rerr = ferror(f);
	fclose(f);
	if (rerr) {
		free(buf);
		snprintf(err, errlen, "%s: read error", file);
		return NULL;
	}
	char *dir = strdup(file);
	char *slash = dir ? strrchr(dir, '/') : NULL;
	if (slash && slash != dir)
		*slash = 0;
	else if (slash)
		slash[1] = 0;
	else if (dir)
		strcpy(dir, ".");
	struct config *c = config_load_string(buf ? buf : "", len, file, dir, err, errlen);
	free(dir);
	free(buf);
	return c;
}

struct config *config_ref(struct config *c)
{
	atomic_fetch_add(&c->refs, 1);
	return c;
}

void config_unref(struct config *c)
{
	if (c && atomic_fetch_sub(&c->refs, 1) == 1)
		config_free(c);
}
