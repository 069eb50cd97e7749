/* The completion path as the gateway uses it: requests live on a libevent
 * loop; each record's `done` callback runs on the audit writer thread and
 * only calls event_active() on the request's own event, so the "response"
 * is released on the loop thread, after the commit. */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "gateway/audit.h"
#include "tests/tap.h"

#define N_REQ 500

struct req {
	struct event *ev;
	int status;
	uint64_t seq;
	pthread_t released_on;
};

static pthread_t loop_thread;
static int released, released_on_loop, released_ok;
static struct event_base *base;

static void req_done(void *arg, int status, uint64_t seq)
{
	struct req *r = arg;
	r->status = status;
	r->seq = seq;
	event_active(r->ev, EV_WRITE, 0); /* thread-safe with evthread_use_pthreads */
}

static void req_release(evutil_socket_t fd, short what, void *arg)
{
	struct req *r = arg;
	(void)fd;
	(void)what;
	released++;
	released_on_loop += pthread_equal(pthread_self(), loop_thread) != 0;
	released_ok += r->status == 0;
	if (released == N_REQ)
		event_base_loopexit(base, NULL);
}

int main(void)
{
	char dir[] = "/tmp/hafen-audit-ev-XXXXXX", cmd[512], db[256], cp[256], key[256], err[AUDIT_ERR_LEN];
	const char *bd = getenv("top_builddir");
	static struct req reqs[N_REQ];
	if (!mkdtemp(dir))
		tap_skip_all("no temporary directory");
	snprintf(cmd, sizeof cmd, "%s/gateway/hafenctl audit keygen --dir %s/k >/dev/null", bd ? bd : ".", dir);
	if (system(cmd) != 0)
		tap_skip_all("hafenctl keygen failed");
	snprintf(db, sizeof db, "%s/a.db", dir);
	snprintf(cp, sizeof cp, "%s/a.cp", dir);
	snprintf(key, sizeof key, "%s/k/audit-signing.key", dir);
	ok(evthread_use_pthreads() == 0, "libevent pthreads locking");
	base = event_base_new();
	loop_thread = pthread_self();
	struct audit_config c;
	audit_config_defaults(&c);
	c.db_path = db;
	c.checkpoint_path = cp;
	c.signing_key_path = key;
	struct audit_log *log = audit_open(&c, err, sizeof err);
	ok(log != NULL, "audit log open");
	if (!log || !base)
		return 1;
	for (int i = 0; i < N_REQ; i++) {
		char id[32];
		snprintf(id, sizeof id, "ev-%d", i);
		struct audit_record r = { .kind = AUDIT_KIND_REQUEST, .request_id = id, .data_class = "confidential" };
		reqs[i].ev = event_new(base, -1, 0, req_release, &reqs[i]);
		reqs[i].status = -2;
		audit_submit(log, &r, NULL, 0, audit_durability_for(log, r.data_class), req_done, &reqs[i]);
	}
	/* a gateway loop has listeners; here nothing else keeps it running */
	event_base_loop(base, EVLOOP_NO_EXIT_ON_EMPTY);
	is_int(released, N_REQ, "every request released");
	is_int(released_on_loop, N_REQ, "every release ran on the loop thread");
	is_int(released_ok, N_REQ, "every release saw a committed record");
	audit_close(log);
	for (int i = 0; i < N_REQ; i++)
		event_free(reqs[i].ev);
	event_base_free(base);
	libevent_global_shutdown();
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd) != 0)
		tap_diag("could not remove %s", dir);
	tap_done();
	return tap_exit_status();
}
