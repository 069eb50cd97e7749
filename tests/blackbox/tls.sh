#!/usr/bin/env bash
# Black-box: TLS on the listener (versions, mTLS) and to the upstream (an
# HTTPS upstream verified against ca_file).
. "$top_srcdir/tests/blackbox/lib.sh"
bb_require_binaries

bb_certs || { echo "Bail out! cannot make test certificates"; exit 1; }
bb_new_key KEY
bb_start_mock up
UPSTREAM_URL=http://127.0.0.1:$up_PORT

# s_client exit status alone is not enough: a client that refuses to offer
# TLS 1.1 fails before it connects. SECLEVEL=0 lets OpenSSL 3 offer it, and
# the control test below proves it really does against a server that allows it.
s_client() {
	local port=$1
	shift
	timeout 10 openssl s_client -connect "127.0.0.1:$port" -servername localhost -CAfile "$CA" \
		-verify_return_error "$@" </dev/null >"$BB_DIR/s_client.out" 2>&1
}

# ---- control: our TLS 1.1 client works against a server that allows it ----
ctl_port=$(bb_free_port)
openssl s_server -accept "127.0.0.1:$ctl_port" -cert "$SERVER_CERT" -key "$SERVER_KEY" \
	-tls1_1 -cipher 'DEFAULT:@SECLEVEL=0' -www >"$BB_DIR/s_server.log" 2>&1 &
ctl_pid=$!
BB_PIDS+=("$ctl_pid")
for _ in $(seq 1 50); do
	ss -ltn "sport = :$ctl_port" 2>/dev/null | grep -q LISTEN && break
	sleep 0.05
done
bb_ok "control: the TLS 1.1 client handshakes with a server that allows TLS 1.1" \
	s_client "$ctl_port" -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0'
kill "$ctl_pid" 2>/dev/null

# ---- protocol versions ----
bb_start_hafen hafen || bb_diag "hafen failed to start: the tests below fail"
bb_ok "TLS 1.1 refused" bb_not s_client "$TLS_PORT" -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0'
cp "$BB_DIR/s_client.out" "$BB_DIR/s11.out"
bb_ok "TLS 1.1 refusal is a handshake failure, not a dead port" \
	grep -Eqi 'alert|handshake failure|unsupported protocol|wrong version' "$BB_DIR/s11.out"
# -brief prints the protocol as soon as the handshake is done (the full
# session dump may be cut short when the server closes first).
s_client "$TLS_PORT" -tls1_2 -brief
bb_ok "TLS 1.2 accepted" grep -q 'Protocol version: TLSv1.2' "$BB_DIR/s_client.out"
s_client "$TLS_PORT" -tls1_3 -brief
bb_ok "TLS 1.3 accepted" grep -q 'Protocol version: TLSv1.3' "$BB_DIR/s_client.out"
bb_ok "the certificate chain verifies against the test CA" grep -q 'Verification: OK' "$BB_DIR/s_client.out"
s_client "$TLS_PORT" -tls1_2
bb_ok "no client certificate requested when client_auth is none" \
	bash -c "grep -q 'No client certificate CA names sent' '$BB_DIR/s_client.out'"
kill -TERM "$HAFEN_PID"
wait "$HAFEN_PID" 2>/dev/null

# ---- mTLS, client_auth required ----
bb_start_hafen mtls "{\"listeners\": [{\"address\": \"127.0.0.1\", \"port\": @TLS_PORT@, \"tls\": {\"certificates\": [{\"cert\": \"$SERVER_CERT\", \"key\": \"$SERVER_KEY\"}], \"client_ca\": \"$CA\", \"client_auth\": \"required\"}}]}" \
	|| bb_diag "hafen (mTLS) failed to start"
# mtls_get [curl args]: prints "CURL_EXIT HTTP_CODE".
mtls_get() {
	local code rc
	code=$(curl -sS --max-time 10 --cacert "$CA" -H "Authorization: Bearer $KEY" -o /dev/null \
		-w '%{http_code}' "$@" "https://localhost:$TLS_PORT/v1/models" 2>>"$BB_DIR/mtls.err")
	rc=$?
	echo "$rc $code"
}
# Refused means the TLS layer said no (or a 4xx): not a dead port (curl exit
# 7) and not a timeout (28), which would pass without hafen.
refused() {
	local rc=${1% *} code=${1#* }
	case "$rc" in 0) case "$code" in 4??) return 0 ;; esac; return 1 ;; 7|28) return 1 ;; esac
	return 0
}
r=$(mtls_get)
bb_ok "mTLS required: no client certificate -> refused in TLS ($r)" refused "$r"
r=$(mtls_get --cert "$CLIENT_CERT" --key "$CLIENT_KEY")
bb_is "$r" "0 200" "mTLS required: a certificate from client_ca -> accepted"
r=$(mtls_get --cert "$OTHER_CLIENT_CERT" --key "$OTHER_CLIENT_KEY")
bb_ok "mTLS required: a certificate from another CA -> refused in TLS ($r)" refused "$r"
kill -TERM "$HAFEN_PID"
wait "$HAFEN_PID" 2>/dev/null

# ---- HTTPS upstream ----
bb_start_mock tup --tls-cert "$SERVER_CERT" --tls-key "$SERVER_KEY"
UPSTREAM_URL=https://localhost:$tup_PORT
bb_start_hafen https-up "{\"upstreams\": [{\"name\": \"engine\", \"url\": \"$UPSTREAM_URL\", \"ca_file\": \"$CA\", \"server_name\": null, \"connect_timeout_ms\": 1000, \"first_byte_timeout_ms\": 2000, \"total_timeout_ms\": 10000, \"max_idle_connections\": 4}]}" \
	|| bb_diag "hafen (HTTPS upstream) failed to start"
bb_post /v1/chat/completions '{"model":"m","messages":[{"role":"user","content":"over TLS both ways"}]}' >"$BB_DIR/tup.json"
bb_is "$(bb_code)" 200 "HTTPS upstream verified against ca_file: 200"
bb_is "$(bb_json "$BB_DIR/tup.json" 'j["choices"][0]["message"]["content"]')" "over TLS both ways" \
	"HTTPS upstream: the answer arrives intact"
bb_ok "HTTPS upstream: the request reached the TLS mock" grep -q '/v1/chat/completions' "$tup_RECORD"
kill -TERM "$HAFEN_PID"
wait "$HAFEN_PID" 2>/dev/null

bb_start_hafen https-wrong-ca "{\"upstreams\": [{\"name\": \"engine\", \"url\": \"$UPSTREAM_URL\", \"ca_file\": \"$OTHER_CA\", \"server_name\": null, \"connect_timeout_ms\": 1000, \"first_byte_timeout_ms\": 2000, \"total_timeout_ms\": 10000, \"max_idle_connections\": 4}]}" \
	|| bb_diag "hafen (HTTPS upstream, wrong CA) failed to start"
n_before=$(grep -c '/v1/chat/completions' "$tup_RECORD")
bb_post /v1/chat/completions '{"model":"m","messages":[{"role":"user","content":"must not arrive"}]}' >"$BB_DIR/wrongca.json"
bb_is "$(bb_code)" 502 "HTTPS upstream whose certificate does not verify against ca_file: 502"
bb_ok "wrong CA: OpenAI-shaped error body" bb_is_openai_error "$BB_DIR/wrongca.json"
bb_is "$(grep -c '/v1/chat/completions' "$tup_RECORD")" "$n_before" "wrong CA: nothing was sent to the unverified upstream"

kill -TERM "$HAFEN_PID"
wait "$HAFEN_PID" 2>/dev/null

# ---- HTTPS upstream: the certificate must name the host (RFC 9110 4.3.4) ----
# A certificate from the right CA, but for engine.internal only.
(
	cd "$BB_DIR/pki" &&
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout engine.key -out engine.csr \
		-subj "/CN=engine.internal" 2>/dev/null &&
	printf 'subjectAltName=DNS:engine.internal\n' >engine.ext &&
	openssl x509 -req -in engine.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
		-extfile engine.ext -out engine.pem 2>/dev/null
) || bb_diag "cannot make the engine.internal certificate"
bb_start_mock eup --tls-cert "$BB_DIR/pki/engine.pem" --tls-key "$BB_DIR/pki/engine.key"
UPSTREAM_URL=https://127.0.0.1:$eup_PORT
upstream_patch() { # upstream_patch SERVER_NAME_JSON
	echo "{\"upstreams\": [{\"name\": \"engine\", \"url\": \"$UPSTREAM_URL\", \"ca_file\": \"$CA\", \"server_name\": $1, \"connect_timeout_ms\": 1000, \"first_byte_timeout_ms\": 2000, \"total_timeout_ms\": 10000, \"max_idle_connections\": 4}]}"
}
bb_start_hafen name-mismatch "$(upstream_patch null)" || bb_diag "hafen (name mismatch) failed to start"
bb_post /v1/chat/completions '{"model":"m","messages":[{"role":"user","content":"wrong name"}]}' >/dev/null
bb_is "$(bb_code)" 502 "HTTPS upstream at 127.0.0.1 whose certificate names only engine.internal: 502"
n=$(cat "$eup_RECORD" 2>/dev/null | grep -c '/v1/chat/completions')
bb_is "$n" 0 "name mismatch: nothing was sent to that upstream"
kill -TERM "$HAFEN_PID"
wait "$HAFEN_PID" 2>/dev/null
bb_start_hafen name-set "$(upstream_patch '"engine.internal"')" || bb_diag "hafen (server_name) failed to start"
bb_post /v1/chat/completions '{"model":"m","messages":[{"role":"user","content":"right name"}]}' >"$BB_DIR/sn.json"
bb_is "$(bb_code)" 200 "server_name engine.internal: the same upstream verifies, 200"
bb_is "$(bb_json "$BB_DIR/sn.json" 'j["choices"][0]["message"]["content"]')" "right name" "server_name: the answer arrives intact"

bb_done
