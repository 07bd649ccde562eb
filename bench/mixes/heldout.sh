#!/bin/sh
# bench/mixes/heldout.sh [BUILD_DIR] [OUT.csv] [wide|fresh|all] - a check on mixes and hosts
# the placement rules were not tuned on, under numaplace and the four peers, judged by
# compare-peers.py. docs/placement.md ("Held-out check, wide", "One mask for a split")
# has the figures. Run from anywhere; about 10-30 s of CPU.
#   wide (default): the twelve mix kinds drawn from two fresh seeds (5151, 8080),
#     replayed on eleven hosts outside `bench mixes`' default set (generated hosts of 12,
#     24 and 40 nodes; a hyper-threaded 2-node Intel, an EPYC with compressed CPU
#     numbering, a 3-node QEMU guest with a CPU-less node, a cgroup leaving 6 CPUs of 32,
#     8 CPUs over 4 nodes of 1 GiB, a 2-node 24-thread Xeon with PCI devices, a
#     cpuset-restricted 16-core Opteron, an xl info capture of a 4-node QEMU host).
#   fresh: seeds 1234 and 9999 (drawn after the session-10 rule was written) on 15
#     hosts: generated hosts of 6, 20 and 48 nodes, the built-in 2s-2n, cxl-4n and
#     opteron-8n, and nine fixtures (two xl info captures, a 4-distance hwloc host,
#     EPYC NPS4, a sparse POWER9, a Threadripper with memoryless nodes, a heterogeneous-
#     memory Xeon, a 2-group Xeon with PCI locality, a 4-node Opteron).
#   all: seed 20261208 (drawn in session 11, after every rule) on every host fixture
#     in tests/fixtures that this hwloc reads (the hwloc/xml/ captures other than
#     cxlmem+dax are hwloc 3 XML), the four built-in hosts and generated hosts of 3, 5,
#     7, 33 and 128 nodes: 34 hosts. About 2-3 minutes (gen:128 is most of it).
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$top/build}
set_name=${3:-wide}
out=${2:-heldout-$set_name.csv}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
f=tests/fixtures    # relative: the CSV names hosts the same from any checkout
case $set_name in
wide)
    seeds="5151 8080"
    hostlist="gen:12 gen:24 gen:40 $f/numactl/intel-2s-2n-ht.txt $f/numactl/epyc9135-2s-cpu-compress.txt
        $f/numactl/qemu-3n-cpuless.txt $f/hwloc/xml-v2/32amd64-4s2n4c-cgroup2.xml
        $f/hwloc/xml-v2/8intel64-4n2t-memattrs.xml $f/hwloc/xml-v2/24em64t-2n6c2t-pci.xml
        $f/hwloc/xml-v2/16amd64-8n2c-cpusets.xml $f/xl-info/qemu-4n-2c-slit.txt" ;;
fresh)
    seeds="1234 9999"
    hostlist="gen:6 gen:20 gen:48 builtin:2s-2n builtin:cxl-4n builtin:opteron-8n
        $f/xl-info/lab-doc-4n-2c.txt $f/xl-info/qemu-3n-cpuless-node.txt
        $f/hwloc/xml-v2/16amd64-4distances.xml $f/numactl/epyc-2s-nps4-8n.txt
        $f/numactl/power9-ac922-sparse.txt $f/numactl/threadripper-nps4-memoryless.txt
        $f/hwloc/xml-v2/64intel64-heteromem.xml $f/hwloc/xml-v2/40intel64-2g2n4c+pcilocality.xml
        $f/numactl/opteron6272-2s-4n.txt" ;;
all)
    seeds="20261208"
    hostlist="$f/hwloc/handmade/2n-cxl-nvm.xml $f/hwloc/handmade/3n-96pu-empty-words.xml
        $f/hwloc/xml-v2/16amd64-4distances.xml $f/hwloc/xml-v2/16amd64-8n2c-cpusets.xml
        $f/hwloc/xml-v2/24em64t-2n6c2t-pci.xml $f/hwloc/xml-v2/32amd64-4s2n4c-cgroup2.xml
        $f/hwloc/xml-v2/40intel64-2g2n4c+pcilocality.xml $f/hwloc/xml-v2/64intel64-heteromem.xml
        $f/hwloc/xml-v2/8intel64-4n2t-memattrs.xml $f/hwloc/xml/cxlmem+dax.v2.xml
        $f/numactl/epyc-2s-nps4-8n.txt $f/numactl/epyc9135-2s-cpu-compress.txt
        $f/numactl/epyc9375f-2s-smt-off.txt $f/numactl/intel-2s-2n-ht.txt
        $f/numactl/opteron6272-2s-4n.txt $f/numactl/power9-ac922-sparse.txt
        $f/numactl/pseries-guest-no-distances.txt $f/numactl/qemu-3n-cpuless.txt
        $f/numactl/threadripper-nps4-memoryless.txt $f/xl-info/lab-doc-4n-2c.txt
        $f/xl-info/qemu-1n-no-cpu-rows.txt $f/xl-info/qemu-2n-pxb-devices.txt
        $f/xl-info/qemu-3n-cpuless-node.txt $f/xl-info/qemu-4n-2c-slit.txt
        builtin:2s-2n builtin:cxl-4n builtin:opteron-8n builtin:big-32n
        gen:3 gen:5 gen:7 gen:33 gen:128" ;;
*)
    echo "heldout.sh: unknown set '$set_name' (expected wide, fresh or all)" >&2
    exit 2 ;;
esac
for s in $seeds; do
    python3 "$top/bench/mixes/gen-mixes.py" "$tmp" "$s" "$s-" >/dev/null
done
set --
for h in $hostlist; do
    set -- "$@" --host "$h"
done
for m in "$tmp"/*.json; do set -- "$@" --mix "$m"; done
for p in numaplace xl42 xapi numad least-loaded; do set -- "$@" --policy "$p"; done
(cd "$top" && "$build/numaplace" bench mixes "$@" --csv) >"$tmp/rows.csv"
sed "s#$tmp/##g" "$tmp/rows.csv" >"$out"
python3 "$top/bench/mixes/compare-peers.py" "$out"
