/* hafenctl subject: export (GDPR Art. 15), erase (Art. 17, by destroying
 * the subject's data key), hold and release (legal holds). The subject is
 * named by --user (the raw OpenAI `user` / X-Hafen-User value, turned into
 * the pseudonym with the HMAC key) or --subject (the pseudonym itself). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "gateway/audit.h"
#include "gateway/ctl.h"
#include "gateway/ctl_audit.h"

static int ctl_subject_export(struct ctl_audit_opts *o, sqlite3 *db, const char *subject)
{
	char err[AUDIT_ERR_LEN];
	unsigned char master[AUDIT_KEY_LEN];
	const char *mk = o->key_dir || o->cfg.master_key_path ? ctl_audit_path(o, "master") : NULL;
	int have = 0;
	if (mk) {
		if (audit_crypto_read_key(mk, master, err, sizeof err) < 0) {
			fprintf(stderr, "hafenctl: %s\n", err);
			return CTL_EXIT_FAIL;
		}
		have = 1;
	}
	json_t *j = audit_subject_export(db, subject, have ? master : NULL, err, sizeof err);
	explicit_bzero(master, sizeof master);
	if (!j) {
		fprintf(stderr, "hafenctl: %s\n", err);
		return CTL_EXIT_FAIL;
	}
	json_dumpf(j, stdout, JSON_INDENT(2));
	printf("\n");
	json_decref(j);
	return CTL_EXIT_OK;
}

static int ctl_subject_erase(struct ctl_audit_opts *o, sqlite3 *db, const char *subject)
{
	char err[AUDIT_ERR_LEN];
	(void)o;
	if (audit_subject_erase(db, subject, err, sizeof err) < 0) {
		fprintf(stderr, "hafenctl: %s\n", err);
		return CTL_EXIT_FAIL;
	}
	printf("erased: the subject's data key is destroyed; captured content is unreadable\n");
	return CTL_EXIT_OK;
}

static int ctl_subject_hold_set(sqlite3 *db, const char *subject, int on, const char *reason)
{
	char err[AUDIT_ERR_LEN];
	if (audit_subject_hold(db, subject, on, reason, err, sizeof err) < 0) {
		fprintf(stderr, "hafenctl: %s\n", err);
		return CTL_EXIT_FAIL;
	}
	printf("legal hold %s\n", on ? "placed" : "released");
	return CTL_EXIT_OK;
}

static int ctl_subject_hold(struct ctl_audit_opts *o, sqlite3 *db, const char *subject)
{
	if (!o->reason) {
		fprintf(stderr, "hafenctl subject hold: --reason TEXT required\n");
		return CTL_EXIT_USAGE;
	}
	return ctl_subject_hold_set(db, subject, 1, o->reason);
}

static int ctl_subject_release(struct ctl_audit_opts *o, sqlite3 *db, const char *subject)
{
	(void)o;
	return ctl_subject_hold_set(db, subject, 0, NULL);
}

static const struct {
	const char *name;
	int (*run)(struct ctl_audit_opts *o, sqlite3 *db, const char *subject);
	int readonly;
} ctl_subject_actions[] = {
	{ "export", ctl_subject_export, 1 },
	{ "erase", ctl_subject_erase, 0 },
	{ "hold", ctl_subject_hold, 0 },
	{ "release", ctl_subject_release, 0 },
};

int ctl_subject_run(int argc, char **argv)
{
	struct ctl_audit_opts o;
	char subject[65], err[AUDIT_ERR_LEN];
	int rc = CTL_EXIT_USAGE;
	if (ctl_audit_parse_opts(argc, argv, &o) < 0)
		goto out;
	for (size_t i = 0; o.action && i < sizeof ctl_subject_actions / sizeof ctl_subject_actions[0]; i++) {
		if (strcmp(o.action, ctl_subject_actions[i].name) != 0)
			continue;
		const char *dbp = ctl_audit_path(&o, "db");
		if (!dbp || ctl_audit_subject(&o, subject) < 0)
			goto out;
		sqlite3 *db = audit_db_open(dbp, ctl_subject_actions[i].readonly, err, sizeof err);
		if (!db) {
			fprintf(stderr, "hafenctl: %s\n", err);
			rc = CTL_EXIT_FAIL;
			goto out;
		}
		rc = ctl_subject_actions[i].run(&o, db, subject);
		sqlite3_close(db);
		goto out;
	}
	fprintf(stderr, "usage: hafenctl subject export|erase|hold|release (--user ID | --subject PSEUDONYM)\n"
	    "       [--db F | -c hafen.json] [--key-dir D] [--reason TEXT]\n");
out:
	ctl_audit_opts_clear(&o);
	return rc;
}
