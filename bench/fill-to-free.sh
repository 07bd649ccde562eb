#!/bin/sh
# bench/fill-to-free.sh - memory truth on a real capture: fill a host read
# from `numactl -H` text with 8 GiB guests (4 vCPUs each) until they are
# refused, under each policy, and compare each node's placed memory with
# the free figure the capture reports.
#
#   bench/fill-to-free.sh [NUMAPLACE] [NUMACTL_FILE] [POLICIES...]
#
# Defaults: build/numaplace, tests/fixtures/numactl/epyc-2s-nps4-8n.txt
# (a 2-socket EPYC in NPS4, 8 nodes of 63 GiB with 52-60 GiB free), every
# baseline and numaplace (the oracle is left out: it is numaplace's objective).
# Output per policy: guests placed and refused, then node: placed/free MiB,
# with '!' after a node holding more than it had free.
set -eu
bin=${1:-build/numaplace}
host=${2:-tests/fixtures/numactl/epyc-2s-nps4-8n.txt}
[ $# -gt 2 ] && shift 2 || set --
policies=${*:-numaplace xl42 least-loaded xapi numad floating}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
{
    printf '{"schema": "numaplace.scenario/1", "host": "%s", "events": [\n' "$host"
    i=0
    while [ $i -lt 64 ]; do
        [ $i -gt 0 ] && printf ','
        printf '{"arrive": {"name": "g%d", "vcpus": 4, "memory": "8G"}}\n' $i
        i=$((i + 1))
    done
    echo ']}'
} >"$dir/fill.json"
for p in $policies; do
    rc=0
    "$bin" place --scenario "$dir/fill.json" --policy "$p" --json >"$dir/out.json" || rc=$?
    [ "$rc" -le 1 ] || { echo "$p: exit $rc" >&2; exit 1; }
    python3 - "$host" "$p" "$dir/out.json" <<'PY'
import json, re, sys
host, policy, out = sys.argv[1], sys.argv[2], sys.argv[3]
free = {int(m.group(1)): int(m.group(2))
        for m in re.finditer(r"node (\d+) free: (\d+) MB", open(host).read())}
d = json.load(open(out))
placed = sum(1 for x in d["decisions"] if x["fits"])
use = {}
for g in d["host_map"]["guests"]:
    for k, v in g["memory_bytes"].items():
        use[int(k)] = use.get(int(k), 0) + v
over = sum(1 for k in free if use.get(k, 0) >> 20 > free[k])
print("%-13s placed %2d refused %2d nodes above free %d:" %
      (policy, placed, len(d["decisions"]) - placed, over),
      " ".join("%d:%d/%d%s" % (k, use.get(k, 0) >> 20, free[k],
                               "!" if use.get(k, 0) >> 20 > free[k] else "")
               for k in sorted(free)))
PY
done
