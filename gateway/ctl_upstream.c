/* hafenctl upstream: the kill switches (AI Act Art. 14) from the command
 * line. Talks plain HTTP to the gateway's admin listener, which is on
 * loopback by default:
 *   hafenctl upstream kill    --admin URL --by NAME (--upstream X | --model ALIAS)
 *   hafenctl upstream release --admin URL --by NAME (--upstream X | --model ALIAS)
 *   hafenctl upstream list    --admin URL  (switches, then each instance's
 *                                          health and breaker state) */
#include "config.h"

#include <getopt.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <jansson.h>

#include "gateway/ctl.h"

#define CTL_UPSTREAM_MAX_REPLY 65536

struct ctl_upstream_opts {
	const char *admin, *by, *upstream, *model;
};

static void ctl_upstream_usage(FILE *f)
{
	fprintf(f, "usage: hafenctl upstream kill|release --admin http://HOST:PORT --by OPERATOR\n"
	    "                 (--upstream NAME | --model ALIAS)\n"
	    "       hafenctl upstream list --admin http://HOST:PORT\n"
	    "The admin listener is the gateway's \"admin\" address (default http://127.0.0.1:9090).\n");
}

/* http://host[:port] with nothing after it but an optional "/". */
static int ctl_upstream_parse_url(const char *url, char *host, size_t hcap, char *port, size_t pcap)
{
	if (strncmp(url, "http://", 7) != 0)
		return -1;
	const char *h = url + 7, *e;
	if (*h == '[') {
		e = strchr(h, ']');
		if (!e || (size_t)(e - h - 1) >= hcap)
			return -1;
		memcpy(host, h + 1, (size_t)(e - h - 1));
		host[e - h - 1] = 0;
		e++;
	} else {
		e = h + strcspn(h, ":/");
		if (e == h || (size_t)(e - h) >= hcap)
			return -1;
		memcpy(host, h, (size_t)(e - h));
		host[e - h] = 0;
	}
	const char *ps = "80";
	size_t pl = 2;
	if (*e == ':') {
		ps = e + 1;
		pl = strcspn(ps, "/");
		e = ps + pl;
	}
	if (pl == 0 || pl >= pcap || (*e && strcmp(e, "/") != 0))
		return -1;
	memcpy(port, ps, pl);
	port[pl] = 0;
	return 0;
}

/* One request, Connection: close; the answer's status and body. */
static int ctl_upstream_http(const char *url, const char *method, const char *path, const char *by,
    const char *body, int *status, char **reply)
{
	char host[256], port[16];
	if (ctl_upstream_parse_url(url, host, sizeof host, port, sizeof port) < 0) {
		fprintf(stderr, "hafenctl: --admin: expected http://HOST[:PORT]\n");
		return -1;
	}
	struct addrinfo hints = {0}, *res = NULL;
	hints.ai_socktype = SOCK_STREAM;
	int rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0) {
		fprintf(stderr, "hafenctl: %s: %s\n", host, gai_strerror(rc));
		return -1;
	}
	int fd = -1;
	for (struct addrinfo *a = res; a && fd < 0; a = a->ai_next) {
		fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
		struct timeval tv = {10, 0};
		if (fd >= 0) {
			setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
			setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
		}
		if (fd >= 0 && connect(fd, a->ai_addr, a->ai_addrlen) < 0) {
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(res);
	if (fd < 0) {
		fprintf(stderr, "hafenctl: cannot connect to the admin listener at %s\n", url);
		return -1;
	}
	char head[1024];
	size_t blen = body ? strlen(body) : 0;
	int hn = snprintf(head, sizeof head, "%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n%s%s%s"
	    "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n", method, path, host,
	    by ? "X-Hafen-Operator: " : "", by ? by : "", by ? "\r\n" : "", blen);
	if (hn < 0 || (size_t)hn >= sizeof head || write(fd, head, (size_t)hn) != hn ||
	    (blen && write(fd, body, blen) != (ssize_t)blen)) {
		fprintf(stderr, "hafenctl: cannot send the request\n");
		close(fd);
		return -1;
	}
	char *buf = malloc(CTL_UPSTREAM_MAX_REPLY + 1);
	size_t n = 0;
	ssize_t r;
	while (buf && n < CTL_UPSTREAM_MAX_REPLY && (r = read(fd, buf + n, CTL_UPSTREAM_MAX_REPLY - n)) > 0)
		n += (size_t)r;
	close(fd);
	if (!buf)
		return -1;
	buf[n] = 0;
	char *sep = strstr(buf, "\r\n\r\n");
	if (strncmp(buf, "HTTP/1.", 7) != 0 || n < 12 || !sep) {
		fprintf(stderr, "hafenctl: the admin listener gave no HTTP answer\n");
		free(buf);
		return -1;
	}
	*status = atoi(buf + 9);
	*reply = strdup(sep + 4);
	free(buf);
	return *reply ? 0 : -1;
}

static int ctl_upstream_switch(const struct ctl_upstream_opts *o, int on)
{
	if (!o->by || (!o->upstream == !o->model)) {
		fprintf(stderr, "hafenctl: upstream %s needs --by and one of --upstream or --model\n",
		    on ? "kill" : "release");
		return CTL_EXIT_USAGE;
	}
	json_t *j = json_pack("{s:s}", o->upstream ? "upstream" : "model", o->upstream ? o->upstream : o->model);
	char *body = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	int status = 0;
	char *reply = NULL;
	int rc = body ? ctl_upstream_http(o->admin, "POST", on ? "/admin/kill" : "/admin/release", o->by, body,
	    &status, &reply) : -1;
	free(body);
	if (rc < 0)
		return CTL_EXIT_FAIL;
	json_t *r = json_loads(reply, 0, NULL);
	if (status != 200) {
		const char *e = json_string_value(json_object_get(r, "error"));
		fprintf(stderr, "hafenctl: %d: %s\n", status, e ? e : reply);
		json_decref(r);
		free(reply);
		return CTL_EXIT_FAIL;
	}
	printf("%s %s %s by %s%s%s\n", json_string_value(json_object_get(r, "kind")),
	    json_string_value(json_object_get(r, "name")), json_string_value(json_object_get(r, "state")),
	    json_string_value(json_object_get(r, "by")),
	    json_is_false(json_object_get(r, "changed")) ? " (it already was)" : "",
	    json_is_true(json_object_get(r, "audited")) ? "; audited" : "");
	json_decref(r);
	free(reply);
	return CTL_EXIT_OK;
}

static const char *ctl_upstream_str(json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));
	return v ? v : "?";
}

/* One line per instance: pool, index, address, location, breaker (with
 * the time to its next probe when open), failures in a row, requests in
 * flight, ejections; "killed" when the pool's switch is pulled. */
static int ctl_upstream_list_state(const struct ctl_upstream_opts *o)
{
	int status = 0;
	char *reply = NULL;
	if (ctl_upstream_http(o->admin, "GET", "/admin/upstreams", NULL, NULL, &status, &reply) < 0)
		return CTL_EXIT_FAIL;
	json_t *r = json_loads(reply, 0, NULL);
	json_t *ups = json_object_get(r, "upstreams");
	if (status != 200 || !json_is_array(ups)) {
		fprintf(stderr, "hafenctl: %d: unexpected answer from the admin listener (GET /admin/upstreams)\n", status);
		json_decref(r);
		free(reply);
		return CTL_EXIT_FAIL;
	}
	size_t i, k;
	json_t *u, *in;
	json_array_foreach(ups, i, u) {
		json_array_foreach(json_object_get(u, "instances"), k, in) {
			const char *st = json_string_value(json_object_get(in, "state"));
			long long retry = (long long)json_integer_value(json_object_get(in, "retry_in_ms"));
			char state[64];
			if (st && strcmp(st, "open") == 0)
				snprintf(state, sizeof state, "open (probe in %lld ms)", retry);
			else
				snprintf(state, sizeof state, "%s", st ? st : "?");
			printf("instance\t%s\t%lld\t%s:%lld\t%s\t%s\tfailures %lld\toutstanding %lld\tejections %lld%s\n",
			    ctl_upstream_str(u, "name"), (long long)json_integer_value(json_object_get(in, "instance")),
			    ctl_upstream_str(in, "host"), (long long)json_integer_value(json_object_get(in, "port")),
			    ctl_upstream_str(u, "location"), state,
			    (long long)json_integer_value(json_object_get(in, "failures")),
			    (long long)json_integer_value(json_object_get(in, "outstanding")),
			    (long long)json_integer_value(json_object_get(in, "ejections")),
			    json_is_true(json_object_get(u, "killed")) ? "\tkilled" : "");
		}
	}
	json_decref(r);
	free(reply);
	return CTL_EXIT_OK;
}

static int ctl_upstream_list(const struct ctl_upstream_opts *o)
{
	int status = 0;
	char *reply = NULL;
	if (ctl_upstream_http(o->admin, "GET", "/admin/kill", NULL, NULL, &status, &reply) < 0)
		return CTL_EXIT_FAIL;
	json_t *r = json_loads(reply, 0, NULL);
	json_t *sw = json_object_get(r, "switches");
	if (status != 200 || !json_is_array(sw)) {
		fprintf(stderr, "hafenctl: %d: unexpected answer from the admin listener\n", status);
		json_decref(r);
		free(reply);
		return CTL_EXIT_FAIL;
	}
	size_t i;
	json_t *e;
	if (json_array_size(sw) == 0)
		printf("no kill switch is pulled\n");
	json_array_foreach(sw, i, e) {
		printf("%s\t%s\tkilled by %s at %lld\n", json_string_value(json_object_get(e, "kind")),
		    json_string_value(json_object_get(e, "name")), json_string_value(json_object_get(e, "by")),
		    (long long)json_integer_value(json_object_get(e, "since")));
	}
	json_decref(r);
	free(reply);
	return ctl_upstream_list_state(o);
}

static const struct {
	const char *name;
	int on; /* -1: list */
} ctl_upstream_actions[] = {
	{"kill", 1},
	{"release", 0},
	{"list", -1},
};

int ctl_upstream_run(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"admin", required_argument, NULL, 'a'},
		{"by", required_argument, NULL, 'b'},
		{"upstream", required_argument, NULL, 'u'},
		{"model", required_argument, NULL, 'm'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	if (argc < 2) {
		ctl_upstream_usage(stderr);
		return CTL_EXIT_USAGE;
	}
	int action = -1;
	for (size_t i = 0; i < sizeof ctl_upstream_actions / sizeof ctl_upstream_actions[0]; i++)
		if (strcmp(argv[1], ctl_upstream_actions[i].name) == 0)
			action = (int)i;
	if (action < 0) {
		ctl_upstream_usage(strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ? stdout : stderr);
		return strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ? CTL_EXIT_OK : CTL_EXIT_USAGE;
	}
	struct ctl_upstream_opts o = {"http://127.0.0.1:9090", NULL, NULL, NULL};
	int c;
	optind = 2;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'a': o.admin = optarg; break;
		case 'b': o.by = optarg; break;
		case 'u': o.upstream = optarg; break;
		case 'm': o.model = optarg; break;
		case 'h': ctl_upstream_usage(stdout); return CTL_EXIT_OK;
		default: ctl_upstream_usage(stderr); return CTL_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		ctl_upstream_usage(stderr);
		return CTL_EXIT_USAGE;
	}
	int on = ctl_upstream_actions[action].on;
	return on < 0 ? ctl_upstream_list(&o) : ctl_upstream_switch(&o, on);
}
