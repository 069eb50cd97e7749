#!/usr/bin/env bash
# Black-box: HTTP/1.1 framing at hafen's TLS listener, byte for byte:
# pipelining, HTTP/1.0, chunked request bodies, and the malformed framings a
# proxy must refuse rather than guess at (request smuggling, RFC 9112 6.3).
. "$top_srcdir/tests/blackbox/lib.sh"
bb_require_binaries

bb_certs || { echo "Bail out! cannot make test certificates"; exit 1; }
bb_new_key KEY
bb_start_mock up
UPSTREAM_URL=http://127.0.0.1:$up_PORT
bb_start_hafen hafen || bb_diag "hafen failed to start: every test below fails"

# chat_req WORD [extra header lines]: a complete chat request echoing WORD.
chat_req() {
	local body="{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"$1\"}]}"
	printf 'POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\n%sContent-Length: %d\r\n\r\n%s' \
		"$KEY" "${2:-}" "${#body}" "$body"
}
# raw FILE: send FILE, print the raw answer (until the server closes).
raw() {
	$CLIENT raw --port "$TLS_PORT" --ca "$CA" --timeout 5 --body "@$1"
}
statuses() {
	grep -a -o 'HTTP/1\.[01] [0-9][0-9][0-9]' | awk '{ print $2 }' | tr '\n' ' ' | sed 's/ $//'
}

# ---- pipelining: three requests in one write, answered in order ----
{ chat_req one; chat_req two; chat_req three $'Connection: close\r\n'; } >"$BB_DIR/pipe.req"
raw "$BB_DIR/pipe.req" >"$BB_DIR/pipe.out"
bb_is "$(statuses <"$BB_DIR/pipe.out")" "200 200 200" "pipelined requests: three answers"
bb_is "$(grep -a -o '"content":"[a-z]*"' "$BB_DIR/pipe.out" | tr '\n' ' ')" \
	'"content":"one" "content":"two" "content":"three" ' "pipelined requests: answered in order"

# ---- HTTP/1.0 ----
printf 'GET /v1/models HTTP/1.0\r\nHost: localhost\r\nAuthorization: Bearer %s\r\n\r\n' "$KEY" >"$BB_DIR/h10.req"
raw "$BB_DIR/h10.req" >"$BB_DIR/h10.out"
bb_is "$(statuses <"$BB_DIR/h10.out")" 200 "HTTP/1.0 request: answered, then the connection closes"

# ---- chunked request body ----
body='{"model":"m","messages":[{"role":"user","content":"sent in chunks"}]}'
{
	printf 'POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer %s\r\n' "$KEY"
	printf 'Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n'
	printf '%x\r\n%s\r\n' 32 "${body:0:32}"
	printf '%x\r\n%s\r\n' $((${#body} - 32)) "${body:32}"
	printf '0\r\n\r\n'
} >"$BB_DIR/chunked.req"
raw "$BB_DIR/chunked.req" >"$BB_DIR/chunked.out"
bb_is "$(statuses <"$BB_DIR/chunked.out")" 200 "chunked request body: 200"
bb_ok "chunked request body: reassembled intact" grep -aq '"content":"sent in chunks"' "$BB_DIR/chunked.out"

# ---- framings to refuse ----
# Each is followed by a second, valid request in the same write: after a
# framing error the connection must close, so that second request must not
# be answered (it could be a smuggled one).
refuse() {
	local name=$1 head=$2 want=${3:-400}
	{ printf '%b' "$head"; chat_req smuggled; } >"$BB_DIR/bad.req"
	raw "$BB_DIR/bad.req" >"$BB_DIR/bad.out"
	bb_is "$(statuses <"$BB_DIR/bad.out")" "$want" "$name: $want and nothing more on that connection"
}
before=$(bb_mock_stat up chat_completions)
refuse "Content-Length and Transfer-Encoding together" \
	"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer $KEY\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
refuse "two different Content-Length values" \
	"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer $KEY\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}"
refuse "a negative Content-Length" \
	"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer $KEY\r\nContent-Length: -2\r\n\r\n{}"
# RFC 9112 6.1: a transfer coding the server does not understand -> 501
refuse "an unknown Transfer-Encoding" \
	"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer $KEY\r\nTransfer-Encoding: gzip\r\n\r\n" 501
refuse "whitespace before the colon (RFC 9112 5.1)" \
	"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nContent-Length : 2\r\nAuthorization: Bearer $KEY\r\n\r\n{}"
refuse "a header line without a colon" \
	"GET /v1/models HTTP/1.1\r\nHost: localhost\r\nthis is not a header\r\n\r\n"
refuse "a garbage request line" "HELLO\r\n\r\n"
refuse "an HTTP/1.1 request without Host (RFC 9112 3.2)" \
	"GET /v1/models HTTP/1.1\r\nAuthorization: Bearer $KEY\r\n\r\n"
bb_is "$(bb_mock_stat up chat_completions)" "$before" "no refused or smuggled request reached the upstream"

bb_ok "hafen is still alive" kill -0 "$HAFEN_PID"
bb_done
