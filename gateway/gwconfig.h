/* hafen configuration: one JSON file, parsed by tables (config.c). */
#ifndef HAFEN_GATEWAY_GWCONFIG_H
#define HAFEN_GATEWAY_GWCONFIG_H

#include <stddef.h>
#include <stdatomic.h>

#include <jansson.h>

enum config_client_auth {
	CONFIG_CLIENT_AUTH_NONE,
	CONFIG_CLIENT_AUTH_OPTIONAL,
	CONFIG_CLIENT_AUTH_REQUIRED,
};

struct config_cert {
	char *cert; /* absolute or relative to the config folder, resolved */
	char *key;
};

struct config_tls {
	struct config_cert *certificates;
	size_t n_certificates;
	char *client_ca;
	int client_auth; /* enum config_client_auth */
};

struct config_listener {
	char *address;
	long long port;
	int plain;
	int has_tls;
	struct config_tls tls;
};

struct config_admin {
	char *address;
	long long port; /* 0 = no admin listener */
};

struct config_limits {
	long long max_header_bytes;
	long long max_body_bytes;
	long long max_connections;
	long long header_timeout_ms;
	long long request_timeout_ms;
	long long idle_timeout_ms;
};

struct config_upstream {
	char *name;
	char *url;
	char *ca_file;
	char *server_name;
	long long connect_timeout_ms;
	long long first_byte_timeout_ms;
	long long total_timeout_ms;
	long long max_idle_connections;
	/* Derived from url. */
	int tls;
	char *host;      /* without brackets */
	int port;
	char *base_path; /* "" or "/prefix" without trailing slash */
	char *host_header;
};

/* An API key (static, from "keys"; or from the key store, gateway/keystore.c)
 * or an mTLS identity ("identities"): who asks, for which purpose, and
 * within which bounds (docs/keys.md). */
struct config_key {
	char *name;
	char *tenant;
	char *purpose;
	char *sha256_hex;
	unsigned char sha256[32];
	int class_floor;      /* enum data_class: requests are at least this class */
	int max_class;        /* enum data_class: above this the request is refused */
	long long rpm;        /* requests per minute, 0 = no limit */
	long long tpm;        /* tokens per minute, 0 = no limit */
	long long concurrency;/* requests in flight, 0 = no limit */
	long long expires;    /* Unix seconds, 0 = never (key store keys) */
	char *cn;             /* identities: client certificate subject CN */
	char *cert_sha256;    /* identities: certificate SHA-256 fingerprint, hex */
};

struct purpose_registry;

/* "policy": the policy packs, loaded in order (gateway/policy_filter.c).
 * No packs: the policy filter is off. */
struct config_policy {
	char **packs; /* resolved against the config folder */
	size_t n_packs;
};

struct config {
	char *file; /* as given */
	char *dir;  /* folder that relative paths are resolved against */
	long long workers;
	struct config_listener *listeners;
	size_t n_listeners;
	struct config_admin admin;
	struct config_limits limits;
	struct config_upstream *upstreams;
	size_t n_upstreams;
	struct config_key *keys;
	size_t n_keys;
	char *access_log;
	char *user;
	long long drain_timeout_ms;
	struct config_policy policy;
	json_t *audit; /* the "audit" object as given; gateway/audit_filter.c parses it */
	json_t *transparency; /* the "transparency" object as given; gateway/transparency.c parses it */
	json_t *purposes_json; /* the "purposes" object as given */
	struct purpose_registry *purposes; /* parsed (gateway/purpose.c); NULL: no registry */
	char *key_store;   /* SQLite key store (gateway/keystore.c), NULL: config keys only */
	char *usage_store; /* SQLite usage file, NULL: the key store's file */
	struct config_key *identities; /* mTLS client identities */
	size_t n_identities;
	atomic_int refs;
};

/* Loads and validates FILE. On error returns NULL and writes
 * "FILE: json.path: what was expected" into err. */
struct config *config_load_file(const char *file, char *err, size_t errlen);
/* Same, from a string (used by tests and the fuzzer); dir resolves paths. */
struct config *config_load_string(const char *text, size_t len, const char *file,
    const char *dir, char *err, size_t errlen);
struct config *config_ref(struct config *c);
void config_unref(struct config *c);

#endif
