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

/* Where an upstream runs (GDPR Art. 44-49: a transfer to a third country
 * needs a basis). Ordered from the most to the least trusted. */
enum config_location {
	CONFIG_LOCATION_ON_PREM,
	CONFIG_LOCATION_EU,
	CONFIG_LOCATION_THIRD_COUNTRY,
};

enum config_transfer_basis {
	CONFIG_TRANSFER_BASIS_ADEQUACY,   /* GDPR Art. 45 adequacy decision */
	CONFIG_TRANSFER_BASIS_SAFEGUARDS, /* GDPR Art. 46 appropriate safeguards (SCCs, BCRs) */
	CONFIG_TRANSFER_BASIS_DEROGATION, /* GDPR Art. 49 derogation */
};

/* One server of a pool. TLS settings fall back to the pool's. */
struct config_instance {
	char *url;
	long long weight;
	char *ca_file;
	char *server_name;
	/* Derived from url. */
	int tls;
	char *host;      /* without brackets */
	int port;
	char *base_path; /* "" or "/prefix" without trailing slash */
	char *host_header;
};

/* A named upstream: a pool of instances that serve the same models and
 * share location, class ceiling and timeouts. The single-"url" form is a
 * pool of one. */
struct config_upstream {
	char *name;
	char *url;
	char *ca_file;
	char *server_name;
	long long connect_timeout_ms;
	long long first_byte_timeout_ms;
	long long total_timeout_ms;
	long long max_idle_connections;
	/* Derived from url (or the first instance). */
	int tls;
	char *host;      /* without brackets */
	int port;
	char *base_path; /* "" or "/prefix" without trailing slash */
	char *host_header;
	/* Pools and routing (gateway/router.c). */
	struct config_instance *instances;
	size_t n_instances;
	char *auth_header;          /* "Name: value" sent upstream; never logged */
	int location;               /* enum config_location */
	int max_data_class;         /* enum data_class; default by location */
	int transfer_basis;         /* enum config_transfer_basis; -1: none */
	char **models;              /* model names it serves; none: any */
	size_t n_models;
	long long retries;          /* further instances tried before the first byte */
	long long fail_threshold;   /* consecutive failures that open the breaker */
	long long eject_ms;         /* first back-off of an open breaker */
	char *health_path;          /* active health check: GET this path */
	long long health_interval_ms; /* 0: no active checks */
	int discover_models;        /* ask GET /v1/models at start and reload */
};

/* A route target: a pool and the model name it gets (NULL: the alias). */
struct config_route_target {
	char *upstream;
	char *model;
	int upstream_idx; /* resolved */
};

/* routes[]: alias x data class x purpose x tenant -> ordered pools. A list
 * that is absent or holds "*" matches everything. First matching row wins. */
struct config_route {
	char *model;
	char **data_classes;
	size_t n_data_classes;
	char **purposes;
	size_t n_purposes;
	char **tenants;
	size_t n_tenants;
	struct config_route_target *targets;
	size_t n_targets;
	unsigned class_mask; /* resolved from data_classes: bit per enum data_class */
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
	struct config_route *routes; /* none: every alias may use every upstream, in order */
	size_t n_routes;
	char *kill_state_file;       /* kill switch state across restarts; NULL: memory only */
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
