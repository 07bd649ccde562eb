#!/bin/sh
# daemon-test-driver.test.sh BUILD_DIR - numaplaced --backend libvirt on
# libvirt's test driver (test:///default, no hypervisor): it opens the
# connection, lists the running domain "test" with its domain id, answers
# `numaplace status` about it, serves it in its metrics with
# backend="libvirt", and refuses Linux discovery options next to the
# libvirt backend (exit 2, the message names the file and line).
# Skips (77) when numaplaced was built without libvirt.
set -u
build=$1
tmp=$(mktemp -d)
pid=''
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL $*"; fail=$((fail + 1)); }
port=$((30000 + $$ % 10000))
cat >"$tmp/c.conf" <<CONF
backend = libvirt
libvirt_uri = test:///default
metrics_listen = 127.0.0.1:$port
period = 300ms
CONF
"$build/numaplaced" -c "$tmp/c.conf" -s "$tmp/s.sock" -S "$tmp/state.json" -l info \
    >"$tmp/log" 2>&1 &
pid=$!
sleep 1
if grep -q "built without libvirt" "$tmp/log"; then
    echo "SKIP: numaplaced built without libvirt"
    exit 77
fi
grep -q "started: backend libvirt" "$tmp/log" && ok || { bad "did not start"; cat "$tmp/log"; }
st=$("$build/numaplace" status --socket "$tmp/s.sock" 2>&1)
echo "$st"
printf '%s\n' "$st" | grep -q "backend libvirt" && ok || bad "status does not name the backend"
printf '%s\n' "$st" | grep -Eq '^test +1 ' && ok || bad "status does not list domain test with id 1"
m=$(curl -sf "http://127.0.0.1:$port/metrics")
printf '%s\n' "$m" | grep -q '^numaplace_build_info{version="[^"]*",backend="libvirt"} 1$' && ok ||
    bad "metrics: no build_info with backend libvirt"
printf '%s\n' "$m" | grep -q '^numaplace_guest_moves_total{guest="test",id="1"} 0$' && ok ||
    bad "metrics: domain test missing"
kill $pid
wait $pid
pid=''
printf 'backend = libvirt\nlibvirt_uri = test:///default\npid = 42\n' >"$tmp/bad.conf"
"$build/numaplaced" -c "$tmp/bad.conf" -s "$tmp/s2.sock" -S "$tmp/st2.json" >"$tmp/log2" 2>&1
rc=$?
[ $rc = 2 ] && ok || bad "Linux key with backend libvirt: exit $rc, not 2"
grep -q "bad.conf:3: discover, cgroup and pid" "$tmp/log2" && ok || { bad "message"; cat "$tmp/log2"; }
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
