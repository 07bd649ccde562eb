#!/bin/sh
# bench/mixes/heldout.sh [BUILD_DIR] [OUT.csv] - a check on mixes and hosts the placement
# rules were not tuned on: the twelve mix kinds drawn from two fresh seeds (5151, 8080),
# replayed on eleven hosts outside `bench mixes`' default set (generated hosts of 12, 24
# and 40 nodes; a hyper-threaded 2-node Intel, an EPYC with compressed CPU numbering, a
# 3-node QEMU guest with a CPU-less node, a cgroup leaving 6 CPUs of 32, 8 CPUs over 4
# nodes of 1 GiB, a 2-node 24-thread Xeon with PCI devices, a cpuset-restricted 16-core
# Opteron, an xl info capture of a 4-node QEMU host), under numaplace and the four peers,
# then judged by compare-peers.py. docs/placement.md ("Held-out check, wide") has the
# figures. Run from anywhere; about 10-30 s of CPU.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$top/build}
out=${2:-heldout-wide.csv}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for s in 5151 8080; do
    python3 "$top/bench/mixes/gen-mixes.py" "$tmp" "$s" "$s-" >/dev/null
done
f=tests/fixtures    # relative: the CSV names hosts the same from any checkout
set --
for h in gen:12 gen:24 gen:40 "$f/numactl/intel-2s-2n-ht.txt" "$f/numactl/epyc9135-2s-cpu-compress.txt" \
    "$f/numactl/qemu-3n-cpuless.txt" "$f/hwloc/xml-v2/32amd64-4s2n4c-cgroup2.xml" \
    "$f/hwloc/xml-v2/8intel64-4n2t-memattrs.xml" "$f/hwloc/xml-v2/24em64t-2n6c2t-pci.xml" \
    "$f/hwloc/xml-v2/16amd64-8n2c-cpusets.xml" "$f/xl-info/qemu-4n-2c-slit.txt"; do
    set -- "$@" --host "$h"
done
for m in "$tmp"/*.json; do set -- "$@" --mix "$m"; done
for p in numaplace xl42 xapi numad least-loaded; do set -- "$@" --policy "$p"; done
(cd "$top" && "$build/numaplace" bench mixes "$@" --csv) | sed "s#$tmp/##g" >"$out"
python3 "$top/bench/mixes/compare-peers.py" "$out"
