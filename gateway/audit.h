/* The tamper-evident audit log: public API used by the gateway and hafenctl.
 *
 * One record per request (served or refused) plus the log's own events
 * (erasure, purge, legal hold). Records are serialized canonically
 * (audit_record.c), hashed as RFC 6962 leaves into a Merkle tree
 * (audit_merkle.c), and every N records or T seconds the tree head is
 * signed with Ed25519 and appended to a checkpoint file
 * (audit_checkpoint.c). Captured content is AES-256-GCM encrypted under a
 * per-subject data key wrapped by a master key (audit_crypto.c).
 * The gateway never touches SQLite: audit_submit() queues, one writer
 * thread commits in groups (audit.c). */
#ifndef HAFEN_GATEWAY_AUDIT_H
#define HAFEN_GATEWAY_AUDIT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#define AUDIT_HASH_LEN 32
#define AUDIT_KEY_LEN 32
#define AUDIT_ERR_LEN 256

/* ---- records ---------------------------------------------------------- */

enum audit_kind {
	AUDIT_KIND_REQUEST = 1, /* a served or refused API request */
	AUDIT_KIND_ERASURE = 2, /* GDPR Art. 17 crypto-shredding of one subject */
	AUDIT_KIND_PURGE = 3,   /* retention purge (GDPR Art. 5(1)(e)) */
	AUDIT_KIND_HOLD = 4,    /* legal hold placed on a subject */
	AUDIT_KIND_RELEASE = 5, /* legal hold released */
	AUDIT_KIND_OVERSIGHT = 6, /* human oversight: kill switch pulled or released (AI Act Art. 14);
	                           * note names the target and who acted */
	AUDIT_KIND_MAX = 6,
};

struct audit_finding {
	const char *type; /* detector type, never the matched value */
	uint32_t count;
};

/* Strings may be NULL (stored as empty). Times are microseconds since the
 * Unix epoch. seq and prev are assigned by the writer. */
struct audit_record {
	uint64_t seq;
	unsigned char prev[AUDIT_HASH_LEN]; /* leaf hash of record seq-1 */
	uint8_t kind;                       /* enum audit_kind */
	const char *request_id;
	uint64_t t_start, t_first_byte, t_end;
	const char *api_key_id, *tenant, *purpose;
	const char *subject; /* HMAC pseudonym of the end user (hex) */
	const char *client_addr;
	const char *endpoint, *model_requested, *model_served;
	const char *upstream_id, *upstream_location;
	const char *data_class, *policy_hash, *config_hash;
	const struct audit_finding *findings; /* sorted by type on encode */
	size_t n_findings;
	const char *const *actions;
	size_t n_actions;
	const char *decision;
	const char *const *rule_ids;
	size_t n_rule_ids;
	uint64_t status, prompt_tokens, completion_tokens;
	const char *error_class;
	const char *note; /* event records: PII-free description */
	/* AES-256-GCM ciphertext of captured content: nonce || ct || tag */
	const unsigned char *content;
	size_t content_len;
};

/* Canonical serialization: fixed field order, fixed-width big-endian
 * integers, length-prefixed strings, sorted findings. Returns a malloc'd
 * buffer. The content field is always last. */
int audit_record_encode(const struct audit_record *rec, unsigned char **out,
    size_t *out_len, char *err, size_t errlen);
/* The same encoding into the caller's buffer, no allocation: 0 and
 * *out_len, 1 when it needs *out_len > cap bytes (buf holds nothing
 * usable then), -1 on a bad record. */
int audit_record_encode_to(const struct audit_record *rec, unsigned char *buf, size_t cap,
    size_t *out_len, char *err, size_t errlen);
/* The two passes of the encoding, for a caller that places the bytes
 * itself (audit_submit writes straight into its queue): measure checks
 * the record and sets pl->len, write fills exactly pl->len bytes. The
 * plan refers to rec's findings: keep rec unchanged in between, and call
 * audit_record_plan_clear after a successful measure. */
#define AUDIT_RECORD_FIELDS 27
#define AUDIT_RECORD_SORT_STACK 32
struct audit_record_plan {
	size_t len;
	uint32_t field_len[AUDIT_RECORD_FIELDS];
	const struct audit_finding **sorted; /* findings by type */
	const struct audit_finding *stack[AUDIT_RECORD_SORT_STACK];
};
int audit_record_measure(const struct audit_record *rec, struct audit_record_plan *pl,
    char *err, size_t errlen);
void audit_record_write(const struct audit_record *rec, const struct audit_record_plan *pl,
    unsigned char *out);
void audit_record_plan_clear(struct audit_record_plan *pl);
/* Strict decoder: rejects unknown tags, wrong order, bad lengths, trailing
 * bytes. The result owns its strings; release with audit_record_clear(). */
int audit_record_decode(const unsigned char *buf, size_t len,
    struct audit_record *rec, char *err, size_t errlen);
void audit_record_clear(struct audit_record *rec);
/* Reads seq and prev from an encoded record without decoding the rest. */
int audit_record_peek(const unsigned char *buf, size_t len, uint64_t *seq,
    unsigned char prev[AUDIT_HASH_LEN]);
/* Locates fields 1..max_tag without decoding (val[tag], val_len[tag]; the
 * arrays hold max_tag + 1 entries). Tags: 1 request_id, 2 t_start,
 * 7 purpose, 8 subject, 15 data_class (see audit_record_fields). */
int audit_record_index(const unsigned char *buf, size_t len, unsigned max_tag,
    const unsigned char **val, size_t *val_len);
#define AUDIT_TAG_REQUEST_ID 1
#define AUDIT_TAG_T_START 2
#define AUDIT_TAG_PURPOSE 7
#define AUDIT_TAG_SUBJECT 8
#define AUDIT_TAG_DATA_CLASS 15
/* Patches seq and prev into an encoded record (the writer does this). */
void audit_record_set_chain(unsigned char *buf, uint64_t seq,
    const unsigned char prev[AUDIT_HASH_LEN]);
/* Metadata as JSON (content excluded). */
json_t *audit_record_to_json(const struct audit_record *rec);
const char *audit_record_kind_name(unsigned kind);
/* Offset of the header fields in the encoding. */
#define AUDIT_RECORD_HEADER_LEN 45

/* ---- Merkle tree (RFC 6962 section 2.1) ------------------------------- */

void audit_merkle_leaf_hash(const unsigned char *data, size_t len,
    unsigned char out[AUDIT_HASH_LEN]);
void audit_merkle_node_hash(const unsigned char l[AUDIT_HASH_LEN],
    const unsigned char r[AUDIT_HASH_LEN], unsigned char out[AUDIT_HASH_LEN]);

/* Incremental tree head: the roots of the perfect subtrees of the
 * binary decomposition of the size (at most 64). */
struct audit_merkle_stack {
	uint64_t size;
	unsigned n;
	unsigned char h[64][AUDIT_HASH_LEN];
};
void audit_merkle_stack_init(struct audit_merkle_stack *st);
void audit_merkle_stack_push(struct audit_merkle_stack *st,
    const unsigned char leaf[AUDIT_HASH_LEN]);
/* MTH of the leaves pushed so far (of the empty string when none). */
void audit_merkle_stack_root(const struct audit_merkle_stack *st,
    unsigned char out[AUDIT_HASH_LEN]);
/* MTH over an array of n leaf hashes. */
void audit_merkle_root(const unsigned char (*leaves)[AUDIT_HASH_LEN], uint64_t n,
    unsigned char out[AUDIT_HASH_LEN]);
/* RFC 6962 PATH(m, D[n]): fills up to 64 hashes, returns the count. */
int audit_merkle_path(const unsigned char (*leaves)[AUDIT_HASH_LEN], uint64_t n,
    uint64_t m, unsigned char (*path)[AUDIT_HASH_LEN]);
/* RFC 9162 section 2.1.3.2: recompute the root from a leaf and its path. */
int audit_merkle_verify_path(const unsigned char leaf[AUDIT_HASH_LEN],
    uint64_t m, uint64_t n, const unsigned char (*path)[AUDIT_HASH_LEN],
    size_t path_len, const unsigned char root[AUDIT_HASH_LEN]);

/* ---- checkpoints ------------------------------------------------------ */

/* One line: "hafen-checkpoint v1 SIZE ROOTHEX TIME SIGB64\n"; the signed
 * message is the line up to and including TIME. */
struct audit_checkpoint {
	uint64_t size;
	unsigned char root[AUDIT_HASH_LEN];
	uint64_t time; /* seconds since the epoch */
	unsigned char sig[64];
};
int audit_checkpoint_parse(const char *line, size_t len,
    struct audit_checkpoint *cp, char *err, size_t errlen);
/* msg must hold 160 bytes; returns the length. */
size_t audit_checkpoint_message(const struct audit_checkpoint *cp, char *msg,
    size_t cap);
int audit_checkpoint_format(const struct audit_checkpoint *cp, char *line,
    size_t cap);
struct evp_pkey_st;
int audit_checkpoint_sign(struct audit_checkpoint *cp, struct evp_pkey_st *key,
    char *err, size_t errlen);
int audit_checkpoint_check_sig(const struct audit_checkpoint *cp,
    struct evp_pkey_st *pub);
/* Appends and fsyncs. */
int audit_checkpoint_append(const char *path, const struct audit_checkpoint *cp,
    char *err, size_t errlen);
/* Reads every checkpoint of a file; *n_out may be 0. */
int audit_checkpoint_load(const char *path, struct audit_checkpoint **out,
    size_t *n_out, char *err, size_t errlen);
struct evp_pkey_st *audit_checkpoint_load_key(const char *path, int priv,
    char *err, size_t errlen);

/* ---- crypto: content capture, subject keys, pseudonyms ---------------- */

/* Key files hold 64 hex digits and a newline, mode 0600. */
int audit_crypto_read_key(const char *path, unsigned char key[AUDIT_KEY_LEN],
    char *err, size_t errlen);
int audit_crypto_write_key(const char *path, char *err, size_t errlen);
/* HMAC-SHA-256(key, user) as 64 hex digits: the pseudonymous subject id. */
void audit_crypto_pseudonym(const unsigned char key[AUDIT_KEY_LEN],
    const char *user, char out[65]);
/* AES-256-GCM; out = nonce(12) || ct || tag(16), len + 28 bytes. */
#define AUDIT_GCM_OVERHEAD 28
int audit_crypto_seal(const unsigned char key[AUDIT_KEY_LEN],
    const unsigned char *aad, size_t aad_len, const unsigned char *pt,
    size_t pt_len, unsigned char *out);
int audit_crypto_open(const unsigned char key[AUDIT_KEY_LEN],
    const unsigned char *aad, size_t aad_len, const unsigned char *in,
    size_t in_len, unsigned char *pt);
/* Data key wrapping under the master key, the subject id as AAD. */
#define AUDIT_WRAPPED_LEN (AUDIT_KEY_LEN + AUDIT_GCM_OVERHEAD)
int audit_crypto_wrap(const unsigned char master[AUDIT_KEY_LEN],
    const char *subject, const unsigned char dk[AUDIT_KEY_LEN],
    unsigned char out[AUDIT_WRAPPED_LEN]);
int audit_crypto_unwrap(const unsigned char master[AUDIT_KEY_LEN],
    const char *subject, const unsigned char in[AUDIT_WRAPPED_LEN],
    unsigned char dk[AUDIT_KEY_LEN]);
void audit_crypto_hex(const unsigned char *b, size_t n, char *out);
int audit_crypto_unhex(const char *s, size_t slen, unsigned char *out, size_t n);

/* ---- configuration ---------------------------------------------------- */

enum audit_durability {
	AUDIT_DURABILITY_BATCH = 0,   /* committed within the batch delay */
	AUDIT_DURABILITY_REQUEST = 1, /* completion after the commit */
};

enum audit_client_addr {
	AUDIT_CLIENT_ADDR_FULL = 0,
	AUDIT_CLIENT_ADDR_TRUNCATED = 1, /* IPv4 /24, IPv6 /48 */
	AUDIT_CLIENT_ADDR_NONE = 2,
};

struct audit_config {
	char *db_path;
	char *checkpoint_path;
	char *signing_key_path; /* Ed25519 private key, PEM */
	char *master_key_path;  /* wraps subject data keys */
	char *hmac_key_path;    /* pseudonyms */
	enum audit_durability durability;
	uint32_t checkpoint_every;   /* records; 0 = only on time/close */
	uint32_t checkpoint_seconds; /* 0 = only on count/close */
	enum audit_client_addr client_addr;
	uint32_t queue_max;
	uint32_t max_pages; /* quota on the database in pages, 0 = none */
};

void audit_config_defaults(struct audit_config *cfg);
/* Parses the "audit" object; file names the source in error messages, and
 * relative paths are taken relative to file's folder. */
int audit_config_parse(struct audit_config *cfg, const json_t *audit,
    const char *file, char *err, size_t errlen);
void audit_config_clear(struct audit_config *cfg);
/* Applies the client-address mode: writes into out (cap >= 46). */
void audit_config_client_addr(enum audit_client_addr mode, const char *addr,
    char *out, size_t cap);

/* ---- the log ---------------------------------------------------------- */

struct audit_log;

/* Called on the writer thread once the record is committed (status 0) or
 * could not be written (status -1). A libevent gateway passes a function
 * that calls event_active() on an event of its own base, so the response
 * is released on the loop. */
typedef void (*audit_done_fn)(void *arg, int status, uint64_t seq);

struct audit_health {
	int ok;               /* 0: the log cannot be written: refuse (503) */
	uint64_t committed;   /* records committed since open */
	uint64_t failed;      /* records that could not be written */
	uint64_t rejected;    /* submits refused (queue full, closed) */
	uint64_t checkpoints; /* checkpoints signed since open */
	uint64_t checkpoint_errors; /* failed signing or appending (alert) */
	uint64_t queued;      /* waiting now */
	uint64_t tree_size;
	char last_error[AUDIT_ERR_LEN]; /* no request data, only the cause */
};

struct audit_log *audit_open(const struct audit_config *cfg, char *err,
    size_t errlen);
/* Queues a record; cap (may be NULL) is content to capture, encrypted under
 * the subject's data key by the writer. Never blocks on I/O. Returns -1 if
 * the record cannot be queued (the caller refuses the request). */
int audit_submit(struct audit_log *log, const struct audit_record *rec,
    const unsigned char *capture, size_t capture_len,
    enum audit_durability durability, audit_done_fn done, void *arg);
void audit_get_health(struct audit_log *log, struct audit_health *h);
/* health.ok without taking the log's lock (the gateway asks per request). */
int audit_writable(struct audit_log *log);
/* Helpers for filling a record on the gateway side. */
/* The subject id for the OpenAI `user` field or X-Hafen-User header, under
 * the configured HMAC key; -1 without a key. */
int audit_pseudonym(struct audit_log *log, const char *user, char out[65]);
/* The client address as the configured mode allows it (cap >= 46). */
void audit_client_addr(struct audit_log *log, const char *addr, char *out, size_t cap);
/* request for confidential and restricted, else the configured default. */
enum audit_durability audit_durability_for(struct audit_log *log, const char *data_class);
/* Commits what is queued, signs a final checkpoint, stops the thread. */
void audit_close(struct audit_log *log);

struct sqlite3;
/* ---- database level operations (hafenctl, offline or beside the writer) */

/* Creates the schema if missing. */
int audit_db_init(struct sqlite3 *db, char *err, size_t errlen);
struct sqlite3 *audit_db_open(const char *path, int readonly, char *err,
    size_t errlen);
/* Appends one event record through the same chain (used by erase/purge when
 * no writer thread runs); returns its seq or -1. */
int64_t audit_db_append(struct sqlite3 *db, const struct audit_record *rec,
    char *err, size_t errlen);

struct audit_verify_result {
	uint64_t records;
	uint64_t checkpoints;
	uint64_t purged;
	int64_t first_bad;  /* seq of the first bad record, -1 if none */
	char msg[512];
};
/* Recomputes every leaf, the chain and every checkpoint's root. Returns 0
 * if all holds, -1 with res->msg naming the first problem. */
int audit_verify(const char *db_path, const char *cp_path, const char *pub_path,
    struct audit_verify_result *res);

/* Inclusion proof of the record with request_id against the latest
 * checkpoint that covers it, as JSON. */
json_t *audit_prove(const char *db_path, const char *cp_path,
    const char *request_id, char *err, size_t errlen);
/* Signs a checkpoint over every stored record (after a consistency check
 * against the last checkpoint); used when no writer runs. */
int audit_sign_head(const char *db_path, const char *cp_path,
    const char *key_path, char *err, size_t errlen);
int audit_verify_proof(const json_t *proof, const char *pub_path, char *err,
    size_t errlen);

/* Subjects (GDPR Art. 15, 17). master may be NULL for export without
 * content. */
json_t *audit_subject_export(struct sqlite3 *db, const char *subject,
    const unsigned char *master, char *err, size_t errlen);
int audit_subject_erase(struct sqlite3 *db, const char *subject, char *err,
    size_t errlen);
int audit_subject_hold(struct sqlite3 *db, const char *subject, int on,
    const char *reason, char *err, size_t errlen);

/* Retention: per purpose policy supplied by the caller (routing config). */
struct audit_retention {
	const char *purpose;
	const char *data_class; /* NULL: every class */
	uint32_t retention_days;
	int high_risk; /* AI Act Art. 19, 26(6): at least 180 days */
};
int audit_retention_check(const struct audit_retention *r, size_t n, char *err,
    size_t errlen);
/* Drops content and personal fields of expired records, keeps leaf hashes.
 * Returns the number of records purged or -1. */
int64_t audit_purge(struct sqlite3 *db, const struct audit_retention *r,
    size_t n, uint64_t now_us, char *err, size_t errlen);

/* Reports (audit_report.c): window [from, to) in microseconds. */
json_t *audit_report_build(struct sqlite3 *db, uint64_t from, uint64_t to,
    const char *purpose, char *err, size_t errlen);
void audit_report_write_csv(const json_t *report, FILE *f);
int audit_report_export(struct sqlite3 *db, uint64_t from, uint64_t to, int csv,
    FILE *f, char *err, size_t errlen);
/* AI Act counts (hafenctl report aiact): per purpose requests, Art. 5 blocks
 * by letter, Annex III point 4 flags and blocks, overrides; kill-switch
 * events from AUDIT_KIND_OVERSIGHT notes. */
json_t *audit_report_aiact(struct sqlite3 *db, uint64_t from, uint64_t to, char *err,
    size_t errlen);

#endif
