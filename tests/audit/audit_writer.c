/* Test driver: writes records through the real audit_log API (queue,
 * writer thread, group commit, checkpoints) and prints "ack ID SEQ" for
 * every record whose completion callback reported a commit, "fail ID" for
 * every one that reported an error. Used by the crash, tamper, erasure and
 * disk-full tests.
 *
 * usage: audit_writer DB CHECKPOINTS KEYDIR COUNT [options]
 *   --durability request|batch   (default request)
 *   --every N                    checkpoint every N records (default 16)
 *   --capture USER TEXT          capture TEXT for every record of USER
 *   --users K                    records cycle through user-0..user-K-1
 *   --max-pages P                database quota
 *   --prefix S                   request id prefix (default req)
 *   --t-start SECONDS            start time of every record */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gateway/audit.h"

static pthread_mutex_t writer_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t writer_cv = PTHREAD_COND_INITIALIZER;
static long writer_pending;
static long writer_failed;

struct writer_req {
	char id[64];
};

static void writer_done(void *arg, int status, uint64_t seq)
{
	struct writer_req *r = arg;
	pthread_mutex_lock(&writer_mu);
	if (status == 0)
		printf("ack %s %llu\n", r->id, (unsigned long long)seq);
	else {
		printf("fail %s\n", r->id);
		writer_failed++;
	}
	fflush(stdout);
	writer_pending--;
	pthread_cond_signal(&writer_cv);
	pthread_mutex_unlock(&writer_mu);
	free(r);
}

int main(int argc, char **argv)
{
	struct audit_config cfg;
	char path[3][4096], err[AUDIT_ERR_LEN];
	const char *cap_user = NULL, *cap_text = NULL, *prefix = "req";
	long count, users = 3;
	uint64_t t_start = 0;
	unsigned char hk[AUDIT_KEY_LEN];

	if (argc < 5) {
		fprintf(stderr, "usage: audit_writer DB CHECKPOINTS KEYDIR COUNT [options]\n");
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
	cfg.checkpoint_every = 16;
	count = atol(argv[4]);
	for (int i = 5; i < argc; i++) {
		if (strcmp(argv[i], "--durability") == 0 && i + 1 < argc)
			cfg.durability = strcmp(argv[++i], "batch") == 0 ? AUDIT_DURABILITY_BATCH : AUDIT_DURABILITY_REQUEST;
		else if (strcmp(argv[i], "--every") == 0 && i + 1 < argc)
			cfg.checkpoint_every = (uint32_t)atol(argv[++i]);
		else if (strcmp(argv[i], "--capture") == 0 && i + 2 < argc) {
			cap_user = argv[++i];
			cap_text = argv[++i];
		} else if (strcmp(argv[i], "--users") == 0 && i + 1 < argc)
			users = atol(argv[++i]);
		else if (strcmp(argv[i], "--max-pages") == 0 && i + 1 < argc)
			cfg.max_pages = (uint32_t)atol(argv[++i]);
		else if (strcmp(argv[i], "--prefix") == 0 && i + 1 < argc)
			prefix = argv[++i];
		else if (strcmp(argv[i], "--t-start") == 0 && i + 1 < argc)
			t_start = (uint64_t)atoll(argv[++i]) * 1000000u;
		else {
			fprintf(stderr, "audit_writer: bad option %s\n", argv[i]);
			return 2;
		}
	}
	if (audit_crypto_read_key(cfg.hmac_key_path, hk, err, sizeof err) < 0) {
		fprintf(stderr, "audit_writer: %s\n", err);
		return 1;
	}
	struct audit_log *log = audit_open(&cfg, err, sizeof err);
	if (!log) {
		fprintf(stderr, "audit_writer: %s\n", err);
		return 1;
	}
	static const struct audit_finding findings[] = { { "EMAIL", 2 }, { "IBAN", 1 } };
	static const char *const actions[] = { "pseudonymize" };
	static const char *const rules[] = { "gdpr-art9-health" };
	for (long i = 0; i < count; i++) {
		char user[64], subject[65];
		struct writer_req *r = malloc(sizeof *r);
		struct timespec ts;
		if (!r)
			return 1;
		snprintf(r->id, sizeof r->id, "%s-%ld", prefix, i);
		snprintf(user, sizeof user, "user-%ld", i % (users ? users : 1));
		audit_crypto_pseudonym(hk, user, subject);
		clock_gettime(CLOCK_REALTIME, &ts);
		uint64_t now = t_start ? t_start : (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
		int blocked = i % 7 == 3;
		struct audit_record rec = {
			.kind = AUDIT_KIND_REQUEST, .request_id = r->id,
			.t_start = now, .t_first_byte = now + 1200, .t_end = now + 5300,
			.api_key_id = "key-7", .tenant = i % 2 ? "hr" : "sales",
			.purpose = i % 2 ? "hr-assistant" : "support",
			.subject = subject, .client_addr = "10.1.2.0",
			.endpoint = "/v1/chat/completions", .model_requested = "qwen3-moe",
			.model_served = "qwen3-moe-a3b", .upstream_id = "engine-1",
			.upstream_location = i % 5 == 4 ? "eu" : "on_prem",
			.data_class = i % 5 == 4 ? "internal" : (i % 3 ? "confidential" : "restricted"),
			.policy_hash = "7d1f0c", .config_hash = "ab12ef",
			.findings = findings, .n_findings = 2,
			.actions = actions, .n_actions = 1,
			.decision = blocked ? "block" : "pseudonymize",
			.rule_ids = rules, .n_rule_ids = blocked ? 1 : 0,
			.status = blocked ? 403 : 200, .prompt_tokens = 120, .completion_tokens = 48,
			.error_class = "",
		};
		int capture = cap_user && strcmp(user, cap_user) == 0;
		pthread_mutex_lock(&writer_mu);
		writer_pending++;
		pthread_mutex_unlock(&writer_mu);
		if (audit_submit(log, &rec, capture ? (const unsigned char *)cap_text : NULL,
		        capture ? strlen(cap_text) : 0, cfg.durability, writer_done, r) < 0) {
			pthread_mutex_lock(&writer_mu);
			writer_pending--;
			printf("rejected %s\n", r->id);
			fflush(stdout);
			pthread_mutex_unlock(&writer_mu);
			free(r);
			usleep(1000);
		}
	}
	pthread_mutex_lock(&writer_mu);
	while (writer_pending)
		pthread_cond_wait(&writer_cv, &writer_mu);
	pthread_mutex_unlock(&writer_mu);
	struct audit_health h;
	audit_get_health(log, &h);
	audit_close(log);
	fprintf(stderr, "audit_writer: committed %llu failed %llu rejected %llu ok %d%s%s\n",
	    (unsigned long long)h.committed, (unsigned long long)h.failed,
	    (unsigned long long)h.rejected, h.ok, h.ok ? "" : " error: ", h.ok ? "" : h.last_error);
	return writer_failed ? 3 : 0;
}
