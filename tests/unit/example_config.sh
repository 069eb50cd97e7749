#!/bin/sh
# contrib/hafen.example.json must pass `hafen -t`; a broken config must not.
set -u
hafen="$top_builddir/gateway/hafen"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "1..3"
# The example refers to cert.pem / key.pem beside it: make a throwaway pair.
cp "$top_srcdir/contrib/hafen.example.json" "$tmp/hafen.json"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=localhost \
	-keyout "$tmp/key.pem" -out "$tmp/cert.pem" >/dev/null 2>&1
if out=$("$hafen" -t -c "$tmp/hafen.json" 2>&1); then
	echo "ok 1 - example config is valid"
else
	echo "not ok 1 - example config is valid"; echo "# $out"
fi
printf '{"listeners":[{"address":"127.0.0.1","port":1,"plain":true}],"upstreams":[{"name":"e","url":"tcp://x"}],"keys":[]}' >"$tmp/bad.json"
out=$("$hafen" -t -c "$tmp/bad.json" 2>&1); rc=$?
if [ $rc -eq 1 ] && [ "$out" = "$tmp/bad.json: upstreams[0].url: expected a string starting with http:// or https://" ]; then
	echo "ok 2 - invalid config exits 1 naming the path"
else
	echo "not ok 2 - invalid config exits 1 naming the path"; echo "# rc=$rc $out"
fi
sed 's/cert.pem/missing.pem/' "$tmp/hafen.json" >"$tmp/nocert.json"
out=$("$hafen" -t -c "$tmp/nocert.json" 2>&1); rc=$?
case "$out" in
*"listeners[0].tls: cannot load certificate chain $tmp/missing.pem"*) [ $rc -eq 1 ] && echo "ok 3 - missing certificate named" || echo "not ok 3 - rc $rc";;
*) echo "not ok 3 - missing certificate named"; echo "# rc=$rc $out";;
esac
