/* hafen: the gateway daemon. The main thread owns signals, reloads, the
 * admin listener and the access-log flush; workers own client traffic. */
#include <config.h> /* autoconf: PACKAGE_VERSION */
#include "gateway/gwconfig.h"
#include "gateway/admin.h"
#include "gateway/audit_filter.h"
#include "gateway/keycache.h"
#include "gateway/purpose.h"
#include "gateway/ratelimit.h"
#include "gateway/usage.h"
#include "gateway/log.h"
#include "gateway/openai.h"
#include "gateway/server.h"

#include <errno.h>
#include <pthread.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>

static const char *hafen_config_file;
static struct event_base *hafen_base;
static int hafen_loaded;
static pthread_t hafen_joiner_thread;
static int hafen_joiner_started;

/* Poll and flush intervals: one second unless the environment says
 * otherwise (tests shorten them; docs/keys.md). */
static long hafen_env_ms(const char *name, long def)
{
	const char *v = getenv(name);
	char *end;
	long ms = v ? strtol(v, &end, 10) : 0;
	return v && *v && !*end && ms >= 10 && ms <= 60000 ? ms : def;
}

static void hafen_usage(void)
{
	fprintf(stderr, "usage: hafen [-t] -c FILE\n"
	    "  -c FILE  configuration file (JSON)\n"
	    "  -t       check the configuration and exit (0 valid, 1 invalid)\n"
	    "  -v       print the version\n");
}

static int hafen_ready(void)
{
	return hafen_loaded && !server_draining_now() && audit_filter_ready();
}

static int hafen_drop_privileges(const char *user)
{
	struct passwd *pw = getpwnam(user);
	if (!pw) {
		log_warnx("user %s: no such user", user);
		return -1;
	}
	if (setgroups(1, &pw->pw_gid) < 0 || setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0) {
		log_warnx("cannot switch to user %s: %s", user, strerror(errno));
		return -1;
	}
	if (setuid(0) == 0) {
		log_warnx("privileges could not be dropped");
		return -1;
	}
	return 0;
}

/* The files the key loader and the usage writer opened at start, before
 * privileges were dropped. A reload cannot move them (the new path may
 * not be reachable as the unprivileged user, and a half-switched pair
 * would lose usage or keys), so a reload that changes one is refused as a
 * whole and names the setting. */
static char *hafen_key_store, *hafen_usage_store;

static const char *hafen_usage_file(const struct config *cfg)
{
	return cfg->usage_store ? cfg->usage_store : cfg->key_store;
}

static int hafen_same_path(const char *a, const char *b)
{
	return a && b ? strcmp(a, b) == 0 : a == b;
}

static int hafen_stores_check(const struct config *cfg, char *err, size_t errlen)
{
	const struct {
		const char *name, *started, *now;
	} rows[] = {
		{"key_store", hafen_key_store, cfg->key_store},
		{"usage_store", hafen_usage_store, hafen_usage_file(cfg)},
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
		if (!hafen_same_path(rows[i].started, rows[i].now)) {
			snprintf(err, errlen, "%s: %s changed from %s to %s; the store is opened at start: restart "
			    "hafen to use it", cfg->file, rows[i].name, rows[i].started ? rows[i].started : "(none)",
			    rows[i].now ? rows[i].now : "(none)");
			return -1;
		}
	return 0;
}

static void hafen_reload(void)
{
	char err[1024];
	struct config *cfg = config_load_file(hafen_config_file, err, sizeof err);
	if (!cfg) {
		log_warnx("reload refused, old configuration kept: %s", err);
		return;
	}
	if (hafen_stores_check(cfg, err, sizeof err) < 0) {
		log_warnx("reload refused, old configuration kept: %s", err);
		config_unref(cfg);
		return;
	}
	struct runtime *rt = runtime_new(cfg, err, sizeof err);
	if (!rt) {
		log_warnx("reload refused, old configuration kept: %s", err);
		config_unref(cfg);
		return;
	}
	if (server_reload(rt, err, sizeof err) < 0) {
		log_warnx("reload refused, old configuration kept: %s", err);
		runtime_unref(rt);
		return;
	}
	if (log_access_open(cfg->access_log, err, sizeof err) < 0)
		log_warnx("reload: %s (access log unchanged)", err);
	if (audit_filter_changed(cfg))
		log_warnx("reload: the \"audit\" section changed; the audit log keeps its settings until restart");
	runtime_unref(rt);
	log_info("configuration reloaded from %s", hafen_config_file);
}

static void *hafen_joiner(void *arg)
{
	server_join();
	event_base_loopbreak(hafen_base);
	return NULL;
}

static void hafen_signal_cb(evutil_socket_t sig, short what, void *arg)
{
	if (sig == SIGHUP) {
		hafen_reload();
		return;
	}
	if (server_draining_now())
		return;
	struct runtime *rt = server_runtime_get();
	long long ms = rt->cfg->drain_timeout_ms;
	runtime_unref(rt);
	log_info("draining (up to %lld ms)", ms);
	admin_stop();
	server_drain();
	/* The workers exit on their own when their last request is done; the
	 * joiner wakes us then. drain_timeout_ms bounds the wait. */
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
	if (pthread_create(&hafen_joiner_thread, NULL, hafen_joiner, NULL) == 0)
		hafen_joiner_started = 1;
	event_base_loopexit(hafen_base, &tv);
}

static void hafen_flush_cb(evutil_socket_t fd, short what, void *arg)
{
	log_access_flush();
}

int main(int argc, char **argv)
{
	int test_only = 0, opt;
	while ((opt = getopt(argc, argv, "c:tvh")) != -1) {
		switch (opt) {
		case 'c':
			hafen_config_file = optarg;
			break;
		case 't':
			test_only = 1;
			break;
		case 'v':
			printf("hafen %s\n", PACKAGE_VERSION);
			return 0;
		default:
			hafen_usage();
			return 2;
		}
	}
	if (!hafen_config_file || optind != argc) {
		hafen_usage();
		return 2;
	}
	openai_json_init();
	char err[1024];
	struct config *cfg = config_load_file(hafen_config_file, err, sizeof err);
	if (!cfg) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	struct runtime *rt = runtime_new(cfg, err, sizeof err);
	if (!rt) {
		fprintf(stderr, "%s\n", err);
		config_unref(cfg);
		return 1;
	}
	if (test_only) {
		/* Valid, but every request of such a key would be refused. */
		for (size_t i = 0; cfg->purposes && i < cfg->n_keys + cfg->n_identities; i++) {
			const struct config_key *k = i < cfg->n_keys ? &cfg->keys[i] : &cfg->identities[i - cfg->n_keys];
			if (!purpose_registry_find(cfg->purposes, k->purpose))
				fprintf(stderr, "%s: %s[%zu].purpose: \"%s\" is not registered: its requests will be "
				    "refused (GDPR Art. 5(1)(b))\n", cfg->file, i < cfg->n_keys ? "keys" : "identities",
				    i < cfg->n_keys ? i : i - cfg->n_keys, k->purpose);
		}
		printf("%s: configuration ok\n", hafen_config_file);
		runtime_unref(rt);
		return 0;
	}
	signal(SIGPIPE, SIG_IGN);
	if (evthread_use_pthreads() < 0) {
		fprintf(stderr, "hafen: libevent without thread support\n");
		return 1;
	}
	if (log_access_open(cfg->access_log, err, sizeof err) < 0) {
		fprintf(stderr, "%s: access_log: %s\n", cfg->file, err);
		return 1;
	}
	if (audit_filter_start(rt->audit, err, sizeof err) < 0) {
		fprintf(stderr, "%s: %s\n", cfg->file, err);
		return 1;
	}
	/* The key store and the usage file: opened before privileges are
	 * dropped, like the audit log; a reload that moves them is refused. */
	if (cfg->key_store && keycache_start(cfg->key_store, hafen_env_ms("HAFEN_KEY_POLL_MS", 1000), err,
	    sizeof err) < 0) {
		fprintf(stderr, "%s: key_store: %s\n", cfg->file, err);
		return 1;
	}
	const char *usage_file = cfg->usage_store ? cfg->usage_store : cfg->key_store;
	if (usage_file && usage_start(usage_file, hafen_env_ms("HAFEN_USAGE_FLUSH_MS", 1000), log_warnx,
	    err, sizeof err) < 0) {
		fprintf(stderr, "%s: usage_store: %s\n", cfg->file, err);
		return 1;
	}
	if ((cfg->key_store && !(hafen_key_store = strdup(cfg->key_store))) ||
	    (usage_file && !(hafen_usage_store = strdup(usage_file)))) {
		fprintf(stderr, "hafen: out of memory\n");
		return 1;
	}
	hafen_base = event_base_new();
	if (!hafen_base || server_init(rt, err, sizeof err) < 0) {
		fprintf(stderr, "hafen: %s\n", err);
		return 1;
	}
	int admin_fd = -1;
	if (cfg->admin.port > 0) {
		admin_fd = server_listen(cfg->admin.address, (int)cfg->admin.port, err, sizeof err);
		if (admin_fd < 0) {
			fprintf(stderr, "hafen: admin: %s\n", err);
			return 1;
		}
	}
	if (cfg->user && hafen_drop_privileges(cfg->user) < 0)
		return 1;
	if (admin_fd >= 0 && admin_start(hafen_base, admin_fd, hafen_ready) < 0) {
		fprintf(stderr, "hafen: cannot start the admin listener\n");
		return 1;
	}
	struct event *sigs[] = {
		evsignal_new(hafen_base, SIGTERM, hafen_signal_cb, NULL),
		evsignal_new(hafen_base, SIGINT, hafen_signal_cb, NULL),
		evsignal_new(hafen_base, SIGHUP, hafen_signal_cb, NULL),
	};
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		evsignal_add(sigs[i], NULL);
	struct event *flush = event_new(hafen_base, -1, EV_PERSIST, hafen_flush_cb, NULL);
	struct timeval ftv = {0, 100000};
	evtimer_add(flush, &ftv);
	if (server_start() < 0) {
		fprintf(stderr, "hafen: cannot start worker threads\n");
		return 1;
	}
	hafen_loaded = 1;
	log_info("hafen %s listening (%lld worker%s)", PACKAGE_VERSION, cfg->workers, cfg->workers == 1 ? "" : "s");
	runtime_unref(rt);
	event_base_dispatch(hafen_base);
	/* Drain deadline reached or workers done: stop what is left. */
	server_stop();
	if (hafen_joiner_started)
		pthread_join(hafen_joiner_thread, NULL);
	else
		server_join();
	audit_filter_stop();
	usage_stop();
	keycache_stop();
	free(hafen_key_store);
	free(hafen_usage_store);
	ratelimit_free_all();
	log_access_flush();
	log_info("stopped");
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		event_free(sigs[i]);
	event_free(flush);
	admin_stop();
	event_base_free(hafen_base);
	return 0;
}
