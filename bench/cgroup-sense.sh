#!/usr/bin/env bash
# cgroup-sense.sh BUILD_DIR [REPS] - what sensing one 256 GiB cgroup guest
# costs numaplaced end to end: np_linux_mem_cgroup_numa_stat (the daemon's
# call for a guest alone in its cgroup v2) on a fixture tree, REPS times
# (default 2000): memory.numa_stat of a 256 GiB guest
# (tests/fixtures/cgroup/memory.numa_stat.256g), hugetlb.2MB.numa_stat
# (none in use) and hugetlb.1GB.numa_stat (64 GiB of 1 GiB pages on node 1)
# read and parsed, 16MB and 16GB tried and absent, as on x86-64. The files
# come from the page cache (this build machine runs cgroup v1: no v2 memory
# controller to read a real guest's counters from; the kernel keeps these
# per node and memcg, so its read does not walk the guest's pages).
# Then the same without any hugetlb file (a cgroup without the hugetlb
# controller: "not sensed").
set -eu
build=${1:?usage: cgroup-sense.sh BUILD_DIR [REPS]}
reps=${2:-2000}
src=$(cd "$(dirname "$0")/.." && pwd)
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
cg=sys/fs/cgroup/machine.slice/g1.scope
mkdir -p "$root/proc/self" "$root/$cg"
echo "cgroup2 /sys/fs/cgroup cgroup2 rw 0 0" > "$root/proc/self/mounts"
cp "$src/tests/fixtures/cgroup/memory.numa_stat.256g" "$root/$cg/memory.numa_stat"
printf 'total=0 N0=0 N1=0\nhierarchical_total=0 N0=0 N1=0\n' > "$root/$cg/hugetlb.2MB.numa_stat"
printf 'total=68719476736 N0=0 N1=68719476736\nhierarchical_total=68719476736 N0=0 N1=68719476736\n' \
    > "$root/$cg/hugetlb.1GB.numa_stat"
"$build/cgroup_sense_bench" --reps "$reps" --cgroup "$root" /machine.slice/g1.scope
rm "$root/$cg"/hugetlb.*
"$build/cgroup_sense_bench" --reps "$reps" --cgroup "$root" /machine.slice/g1.scope
