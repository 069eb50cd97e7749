/* Test driver for `hafenctl report aiact`: writes a fixed set of AI Act
 * records (Art. 5 blocks, Annex III point 4 flags and blocks, overrides,
 * kill-switch events, one record before the report window) through the
 * real audit log (queue, writer thread, chain, checkpoints). The numbers
 * tests/audit/aiact_report.sh expects follow from this table.
 *
 * usage: aiact_writer DB CHECKPOINTS KEYDIR */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "gateway/audit.h"

static pthread_mutex_t aiact_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t aiact_cv = PTHREAD_COND_INITIALIZER;
static int aiact_pending, aiact_failed;

static void aiact_done(void *arg, int status, uint64_t seq)
{
	(void)arg;
	(void)seq;
	pthread_mutex_lock(&aiact_mu);
	aiact_failed += status != 0;
	aiact_pending--;
	pthread_cond_signal(&aiact_cv);
	pthread_mutex_unlock(&aiact_mu);
}

static const struct {
	unsigned kind;
	const char *purpose, *decision, *rules[2], *note;
	unsigned status;
	int old; /* 1: written with a t_start in 2001, outside the report window */
} aiact_records[] = {
	{AUDIT_KIND_REQUEST, "chat", "block", {"aiact-5-1-f"}, NULL, 403, 0},
	{AUDIT_KIND_REQUEST, "chat", "block", {"aiact-5-1-f", "gdpr-art9-health"}, NULL, 403, 0},
	{AUDIT_KIND_REQUEST, "chat", "block", {"aiact-5-1-c"}, NULL, 403, 0},
	{AUDIT_KIND_REQUEST, "support", "block", {"aiact-annex3-4"}, NULL, 403, 0},
	{AUDIT_KIND_REQUEST, "support", "flag", {"aiact-annex3-4"}, NULL, 200, 0},
	{AUDIT_KIND_REQUEST, "hr-recruiting", "flag", {"aiact-5-1-b"}, NULL, 200, 0},
	{AUDIT_KIND_REQUEST, "chat", "pseudonymize", {"gdpr-art9-health"}, NULL, 200, 0},
	{AUDIT_KIND_REQUEST, "chat", "none", {NULL}, NULL, 200, 0},
	{AUDIT_KIND_REQUEST, "legacy", "block", {"aiact-5-1-g"}, NULL, 403, 0},
	{AUDIT_KIND_OVERSIGHT, "", NULL, {NULL}, "kill upstream=gpu-a by=alice", 0, 0},
	{AUDIT_KIND_OVERSIGHT, "", NULL, {NULL}, "release model=qwen by=bob", 0, 0},
	{AUDIT_KIND_REQUEST, "chat", "block", {"aiact-5-1-a"}, NULL, 403, 1},
};

int main(int argc, char **argv)
{
	struct audit_config cfg;
	char path[3][4096], err[AUDIT_ERR_LEN], id[32];
	if (argc != 4) {
		fprintf(stderr, "usage: aiact_writer DB CHECKPOINTS KEYDIR\n");
		return 2;
	}
	audit_config_defaults(&cfg);
	cfg.db_path = argv[1];
	cfg.checkpoint_path = argv[2];
	snprintf(path[0], sizeof path[0], "%s/audit-signing.key", argv[3]);
	snprintf(path[1], sizeof path[1], "%s/audit-master.key", argv[3]);
	snprintf(path[2], sizeof path[2], "%s/audit-hmac.key", argv[3]);
	cfg.signing_key_path = path[0];
	cfg.master_key_path = path[1];
	cfg.hmac_key_path = path[2];
	cfg.durability = AUDIT_DURABILITY_REQUEST;
	struct audit_log *log = audit_open(&cfg, err, sizeof err);
	if (!log) {
		fprintf(stderr, "aiact_writer: %s\n", err);
		return 1;
	}
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	uint64_t now = (uint64_t)ts.tv_sec * 1000000u;
	for (size_t i = 0; i < sizeof aiact_records / sizeof aiact_records[0]; i++) {
		size_t nr = 0;
		while (nr < 2 && aiact_records[i].rules[nr])
			nr++;
		uint64_t t = aiact_records[i].old ? 978307200000000u : now + i;
		snprintf(id, sizeof id, "aiact-%zu", i);
		struct audit_record rec = {
			.kind = (uint8_t)aiact_records[i].kind, .request_id = id,
			.t_start = t, .t_first_byte = t, .t_end = t + 1000,
			.api_key_id = "k", .tenant = "t", .purpose = aiact_records[i].purpose,
			.endpoint = aiact_records[i].kind == AUDIT_KIND_REQUEST ? "/v1/chat/completions" : "",
			.data_class = "internal", .decision = aiact_records[i].decision,
			.rule_ids = aiact_records[i].rules, .n_rule_ids = nr,
			.status = aiact_records[i].status, .note = aiact_records[i].note,
		};
		pthread_mutex_lock(&aiact_mu);
		aiact_pending++;
		pthread_mutex_unlock(&aiact_mu);
		if (audit_submit(log, &rec, NULL, 0, cfg.durability, aiact_done, NULL) < 0) {
			fprintf(stderr, "aiact_writer: record %zu not queued\n", i);
			return 1;
		}
		/* one at a time: the log order is the table order */
		pthread_mutex_lock(&aiact_mu);
		while (aiact_pending)
			pthread_cond_wait(&aiact_cv, &aiact_mu);
		pthread_mutex_unlock(&aiact_mu);
	}
	audit_close(log);
	return aiact_failed ? 3 : 0;
}
