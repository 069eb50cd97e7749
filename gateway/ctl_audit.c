/* hafenctl audit: keygen, verify, prove, verify-proof, checkpoint, export,
 * report, purge. Also the option parsing shared with ctl_subject.c and
 * ctl_report.c. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sqlite3.h>

#include "gateway/audit.h"
#include "gateway/ctl.h"
#include "gateway/ctl_audit.h"

struct ctl_audit_flag {
	const char *name;
	size_t off; /* of a const char * in ctl_audit_opts */
};

#define CTL_FLAG(n, m) { n, offsetof(struct ctl_audit_opts, m) }
static const struct ctl_audit_flag ctl_audit_flags[] = {
	CTL_FLAG("--db", db),
	CTL_FLAG("--checkpoints", checkpoints),
	CTL_FLAG("--pubkey", pubkey),
	CTL_FLAG("--key-dir", key_dir),
	CTL_FLAG("-c", config),
	CTL_FLAG("--config", config),
	CTL_FLAG("--id", id),
	CTL_FLAG("--user", user),
	CTL_FLAG("--subject", subject),
	CTL_FLAG("--from", from),
	CTL_FLAG("--to", to),
	CTL_FLAG("--purpose", purpose),
	CTL_FLAG("--data-class", data_class),
	CTL_FLAG("--format", format),
	CTL_FLAG("--proof", proof),
	CTL_FLAG("--reason", reason),
	CTL_FLAG("--dir", dir),
	CTL_FLAG("--days", days),
	CTL_FLAG("--out", out),
};

/* File names inside --key-dir, as written by `hafenctl audit keygen`. */
static const struct {
	const char *which, *file;
} ctl_audit_key_files[] = {
	{ "signing", "audit-signing.key" },
	{ "pubkey", "audit-signing.pub" },
	{ "master", "audit-master.key" },
	{ "hmac", "audit-hmac.key" },
};

int ctl_audit_parse_opts(int argc, char **argv, struct ctl_audit_opts *o)
{
	memset(o, 0, sizeof *o);
	audit_config_defaults(&o->cfg);
	for (int i = 1; i < argc; i++) {
		const struct ctl_audit_flag *f = NULL;
		if (strcmp(argv[i], "--high-risk") == 0) {
			o->high_risk = 1;
			continue;
		}
		for (size_t k = 0; k < sizeof ctl_audit_flags / sizeof ctl_audit_flags[0]; k++)
			if (strcmp(argv[i], ctl_audit_flags[k].name) == 0)
				f = &ctl_audit_flags[k];
		if (!f && argv[i][0] != '-' && !o->action) {
			o->action = argv[i];
			continue;
		}
		if (!f || i + 1 >= argc) {
			fprintf(stderr, "hafenctl %s: %s '%s'\n", argv[0],
			    f ? "missing value for" : "unknown option", argv[i]);
			return -1;
		}
		*(const char **)((char *)o + f->off) = argv[++i];
	}
	if (o->config) {
		json_error_t je;
		json_t *root = json_load_file(o->config, 0, &je);
		char err[AUDIT_ERR_LEN];
		if (!root) {
			fprintf(stderr, "hafenctl: %s:%d: %s\n", o->config, je.line, je.text);
			return -1;
		}
		json_t *a = json_object_get(root, "audit");
		/* without an audit section, paths must come from the flags */
		int rc = a ? audit_config_parse(&o->cfg, a, o->config, err, sizeof err) : 0;
		json_decref(root);
		if (rc < 0) {
			fprintf(stderr, "hafenctl: %s\n", err);
			return -1;
		}
	}
	return 0;
}

void ctl_audit_opts_clear(struct ctl_audit_opts *o)
{
	audit_config_clear(&o->cfg);
}

const char *ctl_audit_path(struct ctl_audit_opts *o, const char *which)
{
	const char *p = NULL;
	if (strcmp(which, "db") == 0)
		p = o->db ? o->db : o->cfg.db_path;
	else if (strcmp(which, "checkpoints") == 0)
		p = o->checkpoints ? o->checkpoints : o->cfg.checkpoint_path;
	else if (strcmp(which, "pubkey") == 0)
		p = o->pubkey;
	else if (strcmp(which, "signing") == 0)
		p = o->cfg.signing_key_path;
	else if (strcmp(which, "master") == 0)
		p = o->cfg.master_key_path;
	else if (strcmp(which, "hmac") == 0)
		p = o->cfg.hmac_key_path;
	for (size_t k = 0; !p && k < sizeof ctl_audit_key_files / sizeof ctl_audit_key_files[0]; k++) {
		if (strcmp(which, ctl_audit_key_files[k].which) != 0)
			continue;
		char *b = o->buf[k];
		if (o->key_dir)
			snprintf(b, sizeof o->buf[k], "%s/%s", o->key_dir, ctl_audit_key_files[k].file);
		else if (strcmp(which, "pubkey") == 0 && o->cfg.signing_key_path) {
			/* x/audit-signing.key -> x/audit-signing.pub, else x.pub */
			const char *s = o->cfg.signing_key_path;
			size_t l = strlen(s);
			int dotkey = l > 4 && strcmp(s + l - 4, ".key") == 0;
			snprintf(b, sizeof o->buf[k], "%.*s.pub", (int)(dotkey ? l - 4 : l), s);
		}
		else
			continue;
		p = b;
	}
	if (!p)
		fprintf(stderr, "hafenctl: no %s given (use --db, --checkpoints, --pubkey, --key-dir or -c hafen.json)\n",
		    which);
	return p;
}

int ctl_audit_subject(struct ctl_audit_opts *o, char out[65])
{
	unsigned char key[AUDIT_KEY_LEN];
	char err[AUDIT_ERR_LEN];
	const char *hmac;
	if (o->subject) {
		unsigned char tmp[32];
		if (audit_crypto_unhex(o->subject, strlen(o->subject), tmp, sizeof tmp) < 0) {
			fprintf(stderr, "hafenctl: --subject: expected a 64-hex-digit pseudonym\n");
			return -1;
		}
		snprintf(out, 65, "%s", o->subject);
		return 0;
	}
	if (!o->user) {
		fprintf(stderr, "hafenctl: --user ID or --subject PSEUDONYM required\n");
		return -1;
	}
	if (!(hmac = ctl_audit_path(o, "hmac")))
		return -1;
	if (audit_crypto_read_key(hmac, key, err, sizeof err) < 0) {
		fprintf(stderr, "hafenctl: %s\n", err);
		return -1;
	}
	audit_crypto_pseudonym(key, o->user, out);
	explicit_bzero(key, sizeof key);
	return 0;
}

int ctl_audit_time(const char *s, uint64_t *us)
{
	struct tm tm = { 0 };
	char *end;
	if (!s)
		return -1;
	const char *r = strptime(s, "%Y-%m-%d", &tm);
	if (r && (*r == 0 || (*r == 'T' && (r = strptime(r, "T%H:%M:%S", &tm)) && (*r == 0 || strcmp(r, "Z") == 0)))) {
		time_t t = timegm(&tm);
		*us = (uint64_t)t * 1000000u;
		return 0;
	}
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end || end == s)
		return -1;
	*us = (uint64_t)v * 1000000u;
	return 0;
}

static int ctl_audit_write_pem(const char *path, EVP_PKEY *k, int priv)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	int ok;
	if (!f) {
		fprintf(stderr, "hafenctl: %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	ok = priv ? PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL) : PEM_write_PUBKEY(f, k);
	ok = ok && fflush(f) == 0 && fsync(fileno(f)) == 0;
	fclose(f);
	if (!ok)
		fprintf(stderr, "hafenctl: %s: cannot write the key\n", path);
	return ok ? 0 : -1;
}

static int ctl_audit_keygen(struct ctl_audit_opts *o)
{
	char path[4][4096], err[AUDIT_ERR_LEN];
	const char *dir = o->dir ? o->dir : o->key_dir;
	if (!dir) {
		fprintf(stderr, "hafenctl audit keygen: --dir D required\n");
		return CTL_EXIT_USAGE;
	}
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		fprintf(stderr, "hafenctl: %s: %s\n", dir, strerror(errno));
		return CTL_EXIT_FAIL;
	}
	for (size_t k = 0; k < 4; k++)
		snprintf(path[k], sizeof path[k], "%s/%s", dir, ctl_audit_key_files[k].file);
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	int rc = key && ctl_audit_write_pem(path[0], key, 1) == 0 && ctl_audit_write_pem(path[1], key, 0) == 0 ? 0 : -1;
	EVP_PKEY_free(key);
	if (rc == 0 && (audit_crypto_write_key(path[2], err, sizeof err) < 0 ||
	                   audit_crypto_write_key(path[3], err, sizeof err) < 0)) {
		fprintf(stderr, "hafenctl: %s\n", err);
		rc = -1;
	}
	if (rc < 0)
		return CTL_EXIT_FAIL;
	for (size_t k = 0; k < 4; k++)
		printf("%s\n", path[k]);
	return CTL_EXIT_OK;
}

static int ctl_audit_verify(struct ctl_audit_opts *o)
{
	struct audit_verify_result res;
	const char *db = ctl_audit_path(o, "db"), *cp = ctl_audit_path(o, "checkpoints"),
	           *pub = ctl_audit_path(o, "pubkey");
	if (!db || !cp || !pub)
		return CTL_EXIT_USAGE;
	if (audit_verify(db, cp, pub, &res) < 0) {
		if (res.first_bad >= 0)
			fprintf(stderr, "FAILED: first bad record %lld: %s\n", (long long)res.first_bad, res.msg);
		else
			fprintf(stderr, "FAILED: %s\n", res.msg);
		return CTL_EXIT_FAIL;
	}
	printf("%s\n", res.msg);
	return CTL_EXIT_OK;
}

static int ctl_audit_checkpoint(struct ctl_audit_opts *o)
{
	char err[AUDIT_ERR_LEN];
	const char *db = ctl_audit_path(o, "db"), *cp = ctl_audit_path(o, "checkpoints"),
	           *key = ctl_audit_path(o, "signing");
	if (!db || !cp || !key)
		return CTL_EXIT_USAGE;
	if (audit_sign_head(db, cp, key, err, sizeof err) < 0) {
		fprintf(stderr, "hafenctl: %s\n", err);
		return CTL_EXIT_FAIL;
	}
	return CTL_EXIT_OK;
}

static int ctl_audit_prove(struct ctl_audit_opts *o)
{
	char err[AUDIT_ERR_LEN];
	const char *db = ctl_audit_path(o, "db"), *cp = ctl_audit_path(o, "checkpoints");
	if (!db || !cp || !o->id) {
		fprintf(stderr, "hafenctl audit prove: --id REQUEST_ID required\n");
		return CTL_EXIT_USAGE;
	}
	json_t *p = audit_prove(db, cp, o->id, err, sizeof err);
	if (!p) {
		fprintf(stderr, "hafenctl: %s\n", err);
		return CTL_EXIT_FAIL;
	}
	json_dumpf(p, stdout, JSON_INDENT(2));
	printf("\n");
	json_decref(p);
	return CTL_EXIT_OK;
}

static int ctl_audit_verify_proof(struct ctl_audit_opts *o)
{
	char err[AUDIT_ERR_LEN];
	json_error_t je;
	const char *pub = ctl_audit_path(o, "pubkey");
	if (!pub || !o->proof) {
		fprintf(stderr, "hafenctl audit verify-proof: --proof FILE (or -) and --pubkey required\n");
		return CTL_EXIT_USAGE;
	}
	json_t *p = strcmp(o->proof, "-") == 0 ? json_loadf(stdin, 0, &je) : json_load_file(o->proof, 0, &je);
	if (!p) {
		fprintf(stderr, "hafenctl: %s:%d: %s\n", o->proof, je.line, je.text);
		return CTL_EXIT_FAIL;
	}
	int rc = audit_verify_proof(p, pub, err, sizeof err);
	json_decref(p);
	if (rc < 0) {
		fprintf(stderr, "FAILED: %s\n", err);
		return CTL_EXIT_FAIL;
	}
	printf("ok: the record is included in the signed tree\n");
	return CTL_EXIT_OK;
}

static int ctl_audit_export(struct ctl_audit_opts *o)
{
	char err[AUDIT_ERR_LEN];
	uint64_t from = 0, to = UINT64_MAX;
	const char *dbp = ctl_audit_path(o, "db");
	int csv = o->format && strcmp(o->format, "csv") == 0;
	if (!dbp || (o->from && ctl_audit_time(o->from, &from) < 0) || (o->to && ctl_audit_time(o->to, &to) < 0) ||
	    (o->format && !csv && strcmp(o->format, "jsonl") != 0)) {
		fprintf(stderr, "hafenctl audit export: [--from T] [--to T] [--format jsonl|csv]; T is YYYY-MM-DD or epoch seconds\n");
		return CTL_EXIT_USAGE;
	}
	sqlite3 *db = audit_db_open(dbp, 1, err, sizeof err);
	if (!db) {
		fprintf(stderr, "hafenctl: %s\n", err);
		return CTL_EXIT_FAIL;
	}
	int rc = audit_report_export(db, from, to, csv, stdout, err, sizeof err);
	sqlite3_close(db);
	if (rc < 0) {
		fprintf(stderr, "hafenctl: %s\n", err);
		return CTL_EXIT_FAIL;
	}
	return CTL_EXIT_OK;
}

static int ctl_audit_report(struct ctl_audit_opts *o)
{
	char err[AUDIT_ERR_LEN];
	uint64_t from = 0, to = UINT64_MAX;
	const char *dbp = ctl_audit_path(o, "db");
	int csv = o->format && strcmp(o->format, "csv") == 0;
	if (!dbp || (o->from && ctl_audit_time(o->from, &from) < 0) || (o->to && ctl_audit_time(o->to, &to) < 0) ||
	    (o->format && !csv && strcmp(o->format, "json") != 0)) {
		fprintf(stderr, "hafenctl audit report: --from T --to T [--purpose P] [--format json|csv]\n");
		return CTL_EXIT_USAGE;
	}
	sqlite3 *db = audit_db_open(dbp, 1, err, sizeof err);
	if (!db) {
		fprintf(stderr, "hafenctl: %s\n", err);
		return CTL_EXIT_FAIL;
	}
	json_t *r = audit_report_build(db, from, to, o->purpose, err, sizeof err);
	sqlite3_close(db);
	if (!r) {
		fprintf(stderr, "hafenctl: %s\n", err);
		return CTL_EXIT_FAIL;
	}
	if (csv)
		audit_report_write_csv(r, stdout);
	else {
		json_dumpf(r, stdout, JSON_INDENT(2));
		printf("\n");
	}
	json_decref(r);
	return CTL_EXIT_OK;
}

static int ctl_audit_purge(struct ctl_audit_opts *o)
{
	char err[AUDIT_ERR_LEN], *end = NULL;
	const char *dbp = ctl_audit_path(o, "db");
	unsigned long days = o->days ? strtoul(o->days, &end, 10) : 0;
	if (!dbp || !o->purpose || !o->days || *end || days > 100000) {
		fprintf(stderr, "hafenctl audit purge: --purpose P --days N [--data-class C] [--high-risk]\n");
		return CTL_EXIT_USAGE;
	}
	struct audit_retention r = { o->purpose, o->data_class, (uint32_t)days, o->high_risk };
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	sqlite3 *db = audit_db_open(dbp, 0, err, sizeof err);
	if (!db) {
		fprintf(stderr, "hafenctl: %s\n", err);
		return CTL_EXIT_FAIL;
	}
	int64_t n = audit_purge(db, &r, 1, (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u,
	    err, sizeof err);
	sqlite3_close(db);
	if (n < 0) {
		fprintf(stderr, "hafenctl: %s\n", err);
		return CTL_EXIT_FAIL;
	}
	printf("purged %lld records\n", (long long)n);
	return CTL_EXIT_OK;
}

static const struct {
	const char *name;
	int (*run)(struct ctl_audit_opts *o);
	const char *usage;
} ctl_audit_actions[] = {
	{ "keygen", ctl_audit_keygen, "--dir D: signing key pair, master key, HMAC key (0600)" },
	{ "verify", ctl_audit_verify, "recompute leaves, chain and every checkpoint" },
	{ "checkpoint", ctl_audit_checkpoint, "sign the current tree head now" },
	{ "prove", ctl_audit_prove, "--id REQUEST_ID: inclusion proof against the latest checkpoint" },
	{ "verify-proof", ctl_audit_verify_proof, "--proof FILE|- --pubkey P: check a proof" },
	{ "export", ctl_audit_export, "[--from T] [--to T] [--format jsonl|csv]: records as JSON lines or CSV" },
	{ "report", ctl_audit_report, "--from T --to T [--purpose P] [--format json|csv]" },
	{ "purge", ctl_audit_purge, "--purpose P --days N [--data-class C] [--high-risk]" },
};

int ctl_audit_run(int argc, char **argv)
{
	struct ctl_audit_opts o;
	int rc = CTL_EXIT_USAGE;
	if (ctl_audit_parse_opts(argc, argv, &o) < 0) {
		ctl_audit_opts_clear(&o);
		return CTL_EXIT_USAGE;
	}
	for (size_t i = 0; o.action && i < sizeof ctl_audit_actions / sizeof ctl_audit_actions[0]; i++)
		if (strcmp(o.action, ctl_audit_actions[i].name) == 0) {
			rc = ctl_audit_actions[i].run(&o);
			ctl_audit_opts_clear(&o);
			return rc;
		}
	fprintf(stderr, "usage: hafenctl audit ACTION [--db F --checkpoints F --pubkey F | --key-dir D | -c hafen.json]\n");
	for (size_t i = 0; i < sizeof ctl_audit_actions / sizeof ctl_audit_actions[0]; i++)
		fprintf(stderr, "  %-13s %s\n", ctl_audit_actions[i].name, ctl_audit_actions[i].usage);
	ctl_audit_opts_clear(&o);
	return rc;
}
