#!/bin/bash
# The CI benchmark (issue 7): a fresh root building the static website from
# its stitch.lock, with a warm shared artifact cache (nginx with WebDAV on
# loopback, filled by an earlier runner) against a cold one (no cache: every
# package and object compiled).  Medians of BENCH_CI_RUNS (3) runs each,
# every run in a new root at a new path.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
STITCH=${STITCH:-$top/stitch}
RUNS=${BENCH_CI_RUNS:-3}
tmp=$(mktemp -d)
cleanup() {
	[ -f "$tmp/ngx/nginx.pid" ] && kill "$(cat "$tmp/ngx/nginx.pid")" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
die() { echo "ci bench: $*" >&2; exit 1; }
command -v nginx >/dev/null || die "nginx is required (Debian packages nginx, libnginx-mod-http-dav-ext)"
now() { date +%s.%N; }

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$tmp/srv" "$tmp/ngx"
cat >"$tmp/ngx/nginx.conf" <<NGX
worker_processes 1;
daemon on;
user root;
pid $tmp/ngx/nginx.pid;
error_log $tmp/ngx/error.log;
events {}
http {
	access_log off;
	client_body_temp_path $tmp/ngx/body;
	proxy_temp_path $tmp/ngx/proxy;
	fastcgi_temp_path $tmp/ngx/fastcgi;
	uwsgi_temp_path $tmp/ngx/uwsgi;
	scgi_temp_path $tmp/ngx/scgi;
	server {
		listen 127.0.0.1:$PORT;
		root $tmp/srv;
		client_max_body_size 100m;
		dav_methods PUT;
		create_full_put_path on;
	}
}
NGX
nginx -c "$tmp/ngx/nginx.conf" -p "$tmp/ngx" || die "nginx did not start"
URL=http://127.0.0.1:$PORT/cache
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$PORT/" && break; sleep 0.1; done

cp -R "$top/share/examples/static-website" "$tmp/site"
(cd "$tmp/site" && "$STITCH" --root "$tmp/lockroot" lock >/dev/null) || die "stitch lock failed"

# runner N MODE: a fresh root and project copy; prints the build's seconds
runner() {
	local d=$tmp/run-$1 t0 t1
	rm -rf "$d" && mkdir -p "$d" && cp -R "$tmp/site" "$d/site" && rm -rf "$d/site/_build" "$d/site/_stitch"
	if [ "$2" = warm ]; then
		"$STITCH" --root "$d/root" cache remote "$URL" >/dev/null || die "cache remote failed"
	fi
	t0=$(now)
	(cd "$d/site" && "$STITCH" --root "$d/root" build --locked --json >"$d/out" 2>"$d/err") ||
		{ cat "$d/err" >&2; die "the $2 build failed"; }
	t1=$(now)
	grep -o '"sha256":"[0-9a-f]*"' "$d/out" | tail -n 1 >"$d/sha"
	grep -o '"compiled":[0-9]*' "$d/out" | tail -n 1 >"$d/compiled"
	python3 -c "print('%.3f' % ($t1 - $t0))"
	rm -rf "$d/root" "$d/site/_stitch"
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

runner fill warm >/dev/null   # the first runner fills the shared cache
for i in $(seq "$RUNS"); do runner "cold$i" cold; done | median >"$tmp/cold"
for i in $(seq "$RUNS"); do runner "warm$i" warm; done | median >"$tmp/warm"
cold=$(cat "$tmp/cold")
warm=$(cat "$tmp/warm")
same=no
cmp -s "$tmp/run-cold1/sha" "$tmp/run-warm1/sha" && same=yes
echo "CI: fresh-root 'stitch build --locked' of the static website (median of $RUNS):"
printf '  %-52s %8s s\n' "cold (no cache: every package and object compiled)" "$cold"
printf '  %-52s %8s s   (%s)\n' "warm shared cache (nginx on loopback)" "$warm" "$(tr -d '"' <"$tmp/run-warm1/compiled")"
printf '  %-52s %8s\n' "ratio warm/cold" "$(python3 -c "print('%.2fx' % ($warm / $cold))")"
printf '  %-52s %8s\n' "same image SHA-256 both ways" "$same"
