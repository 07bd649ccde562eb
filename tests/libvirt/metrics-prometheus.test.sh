#!/bin/sh
# metrics-prometheus.test.sh BUILD_DIR - numaplaced's metrics listener read by
# a real Prometheus server (Debian's prometheus package):
#   1. numaplaced runs (dry run) on the captured 2-node KVM host
#      tests/fixtures/linux/kvmhost-2n with metrics_listen on 127.0.0.1;
#   2. `promtool check metrics` is clean on what it serves and on the
#      unit test's golden text (tests/fixtures/metrics/two-nodes.prom);
#   3. a Prometheus started with a config scraping that listener every
#      second reports the target up and, through its HTTP query API, the
#      series numaplace_guest_locality_ratio{guest="db"} with the locality
#      numaplaced computed from the capture (0.25).
# Skips (77) when prometheus, promtool or curl is missing.
set -u
build=$1
here=$(cd "$(dirname "$0")" && pwd)
top=$here/../..
for tool in prometheus promtool curl; do
    command -v $tool >/dev/null 2>&1 || { echo "SKIP: $tool is not installed"; exit 77; }
done
tmp=$(mktemp -d)
np_pid='' prom_pid=''
cleanup() {
    [ -n "$np_pid" ] && kill "$np_pid" 2>/dev/null
    [ -n "$prom_pid" ] && kill "$prom_pid" 2>/dev/null
    [ -n "$np_pid" ] && wait "$np_pid" 2>/dev/null
    [ -n "$prom_pid" ] && wait "$prom_pid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL $*"; fail=$((fail + 1)); }
# ports from the PID, away from Prometheus's 9090 and numaplace's 9464
mport=$((20000 + $$ % 10000))
pport=$((mport + 10000))

printf 'metrics_listen = 127.0.0.1:%s\nperiod = 500ms\n' "$mport" >"$tmp/numaplaced.conf"
"$build/numaplaced" -c "$tmp/numaplaced.conf" --root "$top/tests/fixtures/linux/kvmhost-2n" \
    --dry-run -s "$tmp/ctl.sock" -S "$tmp/state.json" -l warning 2>"$tmp/numaplaced.log" &
np_pid=$!
i=0
until curl -sf "http://127.0.0.1:$mport/metrics" >"$tmp/scrape.txt" 2>/dev/null; do
    i=$((i + 1))
    [ $i -gt 50 ] && { bad "numaplaced never served /metrics"; cat "$tmp/numaplaced.log"; exit 1; }
    sleep 0.1
done
sleep 1 # a round or two
curl -sf "http://127.0.0.1:$mport/metrics" >"$tmp/scrape.txt"
if out=$(promtool check metrics <"$tmp/scrape.txt" 2>&1) && [ -z "$out" ]; then ok; else
    bad "promtool check metrics on the daemon's text: $out"; fi
if out=$(promtool check metrics <"$top/tests/fixtures/metrics/two-nodes.prom" 2>&1) && [ -z "$out" ]; then ok; else
    bad "promtool check metrics on two-nodes.prom: $out"; fi
grep -q '^numaplace_guest_memory_bytes{guest="rhel9,prod",id="4100",node="1"} 2151940096$' \
    "$tmp/scrape.txt" && ok || bad "rhel9,prod's memory on node 1 not in the scrape"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$mport/other")
[ "$code" = 404 ] && ok || bad "GET /other answered $code, not 404"

cat >"$tmp/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: numaplaced
    static_configs:
      - targets: ['127.0.0.1:$mport']
YML
prometheus --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/tsdb" \
    --web.listen-address="127.0.0.1:$pport" >"$tmp/prometheus.log" 2>&1 &
prom_pid=$!
query() { curl -sf -G "http://127.0.0.1:$pport/api/v1/query" --data-urlencode "query=$1"; }
i=0 got=''
while [ $i -lt 60 ]; do
    got=$(query 'numaplace_guest_locality_ratio{guest="db"}' 2>/dev/null |
        sed -n 's/.*"value":\[[0-9.]*,"\([0-9.e+-]*\)"\].*/\1/p')
    [ -n "$got" ] && break
    i=$((i + 1))
    sleep 1
done
echo "prometheus: numaplace_guest_locality_ratio{guest=\"db\"} = $got (after ${i} s)"
case $got in 0.24999*) ok ;; *) bad "Prometheus' value for db's locality: '$got'"; tail -5 "$tmp/prometheus.log" ;; esac
up=$(query 'up{job="numaplaced"}' | sed -n 's/.*"value":\[[0-9.]*,"\([0-9]*\)"\].*/\1/p')
[ "$up" = 1 ] && ok || bad "up{job=\"numaplaced\"} is '$up'"
nodes=$(query 'count(numaplace_node_memory_free_bytes)' | sed -n 's/.*"value":\[[0-9.]*,"\([0-9]*\)"\].*/\1/p')
[ "$nodes" = 2 ] && ok || bad "count(numaplace_node_memory_free_bytes) is '$nodes', not 2"
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
