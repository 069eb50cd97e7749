# Shared setup of the gateway benchmarks (bench/gateway.sh, bench/keys.sh,
# bench/audit_gateway.sh). Sourced, not run; the caller sets PY first.
#
#   bench_init NAME PREFIX   say/die name the script; $dir is a new temporary
#                            folder, removed at exit together with every
#                            process whose pid the script adds to pids
#   bench_certs              a CA and a localhost server certificate in $dir
#                            (ca.pem, server.pem, server.key)
#   free_port, wait_for CMD  a free loopback port; CMD retried for up to 5 s

bench_init() {
	bench_name=$1
	dir=$(mktemp -d "${TMPDIR:-/tmp}/$2.XXXXXX")
	pids=()
	trap bench_cleanup EXIT
}

say() { printf '==> %s\n' "$*" >&2; }
die() { printf '%s: %s\n' "${bench_name:-bench}" "$*" >&2; exit 1; }

bench_cleanup() {
	local p
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$dir"
}

free_port() {
	"$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_for() {
	for _ in $(seq 1 100); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	return 1
}

bench_certs() {
	(
		cd "$dir"
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem \
			-days 2 -subj "/CN=bench CA" 2>/dev/null
		openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout server.key -out server.csr \
			-subj "/CN=localhost" 2>/dev/null
		printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >server.ext
		openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
			-extfile server.ext -out server.pem 2>/dev/null
	)
}
