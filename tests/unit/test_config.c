/* Config parsing: good configs with defaults, and one error per kind,
 * each naming the file, the JSON path and what was expected. */
#include <string.h>

#include "gateway/gwconfig.h"
#include "tests/tap.h"

#define KEY "\"keys\":[{\"name\":\"demo\",\"tenant\":\"t\",\"purpose\":\"chat\",\"sha256\":\"" \
	"a665a45920422f9d417e4867efdc4fb8a04a1f3fff1fa07e998e86f7f7a27ae3\"}]"
#define UP "\"upstreams\":[{\"name\":\"engine\",\"url\":\"http://127.0.0.1:8081\"}]"
#define LP "\"listeners\":[{\"address\":\"127.0.0.1\",\"port\":8080,\"plain\":true}]"

static struct config *load(const char *s, char *err)
{
	return config_load_string(s, strlen(s), "hafen.json", "/etc/hafen", err, 512);
}

static void expect_error(const char *json, const char *want, const char *name)
{
	char err[512] = "";
	struct config *c = load(json, err);
	ok(c == NULL, "%s: rejected", name);
	is_str(err, want, name);
	config_unref(c);
}

int main(void)
{
	char err[512];
	struct config *c = load("{" LP "," UP "," KEY "}", err);
	ok(c != NULL, "minimal config loads");
	if (!c) {
		tap_diag("%s", err);
		tap_done();
		return 1;
	}
	is_int(c->workers, 1, "workers defaults to 1");
	is_int(c->limits.max_header_bytes, 16384, "max_header_bytes default");
	is_int(c->limits.max_body_bytes, 8388608, "max_body_bytes default");
	is_int(c->limits.max_connections, 4096, "max_connections default");
	is_int(c->limits.header_timeout_ms, 10000, "header_timeout_ms default");
	is_int(c->drain_timeout_ms, 30000, "drain_timeout_ms default");
	is_str(c->access_log, "stderr", "access_log default");
	is_str(c->admin.address, "127.0.0.1", "admin address default");
	is_int(c->admin.port, 9090, "admin port default");
	is_int(c->upstreams[0].port, 8081, "upstream port from url");
	is_str(c->upstreams[0].host, "127.0.0.1", "upstream host from url");
	is_str(c->upstreams[0].base_path, "", "upstream without path");
	is_int(c->upstreams[0].connect_timeout_ms, 2000, "connect_timeout_ms default");
	is_int(c->upstreams[0].max_idle_connections, 64, "max_idle_connections default");
	is_int(c->keys[0].sha256[0], 0xa6, "key hash decoded");
	ok(c->listeners[0].plain == 1, "plain listener");
	config_unref(c);

	c = load("{\"workers\":4,\"listeners\":[{\"address\":\"::1\",\"port\":8443,\"tls\":{\"certificates\":"
	    "[{\"cert\":\"cert.pem\",\"key\":\"/abs/key.pem\"},{\"cert\":\"b.pem\",\"key\":\"b.key\"}],"
	    "\"client_ca\":\"ca.pem\",\"client_auth\":\"required\"}}],"
	    "\"upstreams\":[{\"name\":\"e\",\"url\":\"https://[::1]:9443/base/\",\"ca_file\":\"up-ca.pem\","
	    "\"server_name\":\"engine.local\"}],\"keys\":[],\"access_log\":\"access.log\",\"user\":null,"
	    "\"limits\":{\"max_connections\":10}}", err);
	ok(c != NULL, "full TLS config loads");
	if (c) {
		is_int(c->workers, 4, "workers");
		is_str(c->listeners[0].tls.certificates[0].cert, "/etc/hafen/cert.pem", "relative cert path resolved");
		is_str(c->listeners[0].tls.certificates[0].key, "/abs/key.pem", "absolute key path kept");
		is_int(c->listeners[0].tls.n_certificates, 2, "two certificates (SNI)");
		is_int(c->listeners[0].tls.client_auth, CONFIG_CLIENT_AUTH_REQUIRED, "client_auth required");
		is_str(c->access_log, "/etc/hafen/access.log", "access log path resolved");
		ok(c->upstreams[0].tls == 1, "https upstream");
		is_str(c->upstreams[0].host, "::1", "IPv6 host without brackets");
		is_int(c->upstreams[0].port, 9443, "IPv6 port");
		is_str(c->upstreams[0].base_path, "/base", "base path without trailing slash");
		is_str(c->upstreams[0].host_header, "[::1]:9443", "Host header for IPv6");
		is_str(c->upstreams[0].ca_file, "/etc/hafen/up-ca.pem", "ca_file resolved");
		is_int(c->limits.max_connections, 10, "limit set");
		is_int(c->limits.max_body_bytes, 8388608, "other limits keep defaults");
		ok(c->user == NULL, "user null");
	} else {
		tap_diag("%s", err);
	}
	config_unref(c);

	expect_error("{" LP ",\"upstreams\":[{\"name\":\"e\",\"url\":\"ftp://x\"}]," KEY "}",
	    "hafen.json: upstreams[0].url: expected a string starting with http:// or https://", "bad url scheme");
	expect_error("{" LP ",\"upstreams\":[{\"name\":\"e\",\"url\":\"http://x:99999\"}]," KEY "}",
	    "hafen.json: upstreams[0].url: expected a port from 1 to 65535 after the host", "bad url port");
	expect_error("{" LP "," UP "," KEY ",\"wokers\":2}", "hafen.json: wokers: unknown key", "unknown top-level key");
	expect_error("{" LP "," UP "," KEY ",\"limits\":{\"max_body\":1}}", "hafen.json: limits.max_body: unknown key",
	    "unknown nested key");
	expect_error("{" LP "," UP "," KEY ",\"workers\":\"2\"}",
	    "hafen.json: workers: expected an integer from 1 to 256", "wrong type");
	expect_error("{" LP "," UP "," KEY ",\"workers\":0}",
	    "hafen.json: workers: expected an integer from 1 to 256", "out of range");
	expect_error("{" UP "," KEY "}", "hafen.json: listeners: missing, expected an array of objects", "missing listeners");
	expect_error("{\"listeners\":[]," UP "," KEY "}", "hafen.json: listeners: expected at least one listener",
	    "empty listeners");
	expect_error("{\"listeners\":[{\"address\":\"a\",\"port\":1}]," UP "," KEY "}",
	    "hafen.json: listeners[0]: expected \"tls\" (or \"plain\": true for plain HTTP)", "listener neither tls nor plain");
	expect_error("{\"listeners\":[{\"address\":\"a\",\"port\":1,\"plain\":true,\"tls\":{\"certificates\":[]}}]," UP "," KEY "}",
	    "hafen.json: listeners[0]: a plain listener must not have \"tls\"", "plain listener with tls");
	expect_error("{\"listeners\":[{\"address\":\"a\",\"port\":1,\"tls\":{\"certificates\":[{\"cert\":\"c\",\"key\":\"k\"}],"
	    "\"client_auth\":\"maybe\"}}]," UP "," KEY "}",
	    "hafen.json: listeners[0].tls.client_auth: expected one of none, optional, required", "bad enum");
	expect_error("{\"listeners\":[{\"address\":\"a\",\"port\":1,\"tls\":{\"certificates\":[{\"cert\":\"c\",\"key\":\"k\"}],"
	    "\"client_auth\":\"required\"}}]," UP "," KEY "}",
	    "hafen.json: listeners[0].tls.client_ca: expected a CA file when client_auth is optional or required",
	    "mTLS without CA");
	expect_error("{\"listeners\":[{\"address\":\"a\",\"port\":1,\"tls\":{\"certificates\":[{\"cert\":\"c\"}]}}]," UP "," KEY "}",
	    "hafen.json: listeners[0].tls.certificates[0].key: missing, expected a file path (string)", "missing key file");
	expect_error("{" LP "," UP ",\"keys\":[{\"name\":\"d\",\"tenant\":\"t\",\"purpose\":\"p\",\"sha256\":\"ABC\"}]}",
	    "hafen.json: keys[0].sha256: expected 64 lowercase hex digits", "bad key hash");
	expect_error("{" LP ",\"upstreams\":[]," KEY "}", "hafen.json: upstreams: expected at least one upstream", "no upstreams");
	expect_error("{" LP ",\"upstreams\":[{\"name\":\"a\",\"url\":\"http://x\"},{\"name\":\"a\",\"url\":\"http://y\"}]," KEY "}",
	    "hafen.json: upstreams[1].name: expected a name not used by another upstream", "duplicate upstream name");
	expect_error("{" LP "," UP "," KEY ",\"access_log\":\"\"}", "hafen.json: access_log: expected a non-empty string",
	    "empty string");
	expect_error("[1]", "hafen.json: expected a JSON object at the top level", "not an object");
	expect_error("{" LP "," UP "," KEY ",\"listeners\":[]}",
	    "hafen.json: line 1 column 268: invalid JSON: duplicate object key near '\"listeners\"'", "duplicate key in JSON");
	err[0] = 0;
	c = load("{\"workers\": 1,", err);
	ok(c == NULL && strncmp(err, "hafen.json: line 1 column", 25) == 0, "syntax error names the position");
	c = config_load_file("/nonexistent/hafen.json", err, sizeof err);
	ok(c == NULL && strstr(err, "/nonexistent/hafen.json: cannot open") == err, "missing file");
	tap_done();
	return tap_exit_status();
}
