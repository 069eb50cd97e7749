/* Options shared by `hafenctl audit`, `subject` and `report`. */
#ifndef HAFEN_GATEWAY_CTL_AUDIT_H
#define HAFEN_GATEWAY_CTL_AUDIT_H

#include <stddef.h>

#include "gateway/audit.h"

struct ctl_audit_opts {
	const char *action; /* the first word after the group */
	const char *db, *checkpoints, *pubkey, *key_dir, *config;
	const char *id, *user, *subject, *from, *to, *purpose, *data_class;
	const char *format, *proof, *reason, *dir, *days, *out;
	int high_risk;
	struct audit_config cfg; /* from -c, if given */
	char buf[4][4096];       /* paths derived from --key-dir */
};

/* Parses argv (argv[0] is the group). Returns 0 or prints usage and
 * returns -1. */
int ctl_audit_parse_opts(int argc, char **argv, struct ctl_audit_opts *o);
/* Resolves --db/--checkpoints/--pubkey/--key-dir/-c into paths; needs lists
 * which are required ("db", "checkpoints", "pubkey", "signing", "master",
 * "hmac"). Returns NULL and prints if one is missing. */
const char *ctl_audit_path(struct ctl_audit_opts *o, const char *which);
void ctl_audit_opts_clear(struct ctl_audit_opts *o);
/* Subject id from --subject (pseudonym) or --user (HMAC with the key). */
int ctl_audit_subject(struct ctl_audit_opts *o, char out[65]);
/* Microseconds from --from/--to: YYYY-MM-DD or seconds since the epoch. */
int ctl_audit_time(const char *s, uint64_t *us);

#endif
