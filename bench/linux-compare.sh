#!/usr/bin/env bash
# linux-compare.sh BUILD_DIR [SECONDS] - numaplaced next to its peers on
# the same misplaced workload, inside a 2-node QEMU guest (2 CPUs and
# 1 GiB per node, TCG), and the chunked mover next to numactl's
# migratepages. Results go to stdout as key=value lines and tables;
# docs/results-linux.md holds a run with the command line.
#
# Workload: np-wrongnode 400 0 1 SECONDS: 400 MiB touched on node 0, then
# running on node 1's CPUs, writing one byte per page in sweeps; once a
# second (guest time) it prints where its pages are. 400 MiB because numad
# ignores processes under 300 MB (MEMORY_THRESHOLD in numad.c).
# Runs, each on a fresh workload, kernel.numa_balancing=0 unless said:
#   kernel   kernel.numa_balancing=1 (the kernel's automatic NUMA balancing)
#   numad    numad -i 1:3, in a time namespace whose CLOCK_MONOTONIC is 100000 s
#            ahead (numad skips every process for the first 300 s after boot:
#            /work/shared/lab/numa-guest.md section 4)
#   numaplaced  numaplaced --pid W, default period (2 s) and budget (1280M/s)
# For each: locality (pages on node 1 / all pages) at each second of guest
# time, and pages the kernel migrated (pgmigrate_success delta in /proc/vmstat).
# Then the movers on one 256 MiB workload: numaplace migrate (chunked
# move_pages, no budget) from node 0 to 1, and numactl's migratepages back;
# elapsed time of each, the chunked mover's longest batch, and the
# workload's own longest 1 MiB write slice during each (the stall it saw).
#
# linux-compare.sh BUILD_DIR --unpinned [SECONDS] - the unpinned multi-guest
# scenario of issue 12 instead: 4-node guest, three QEMU-like guests of
# 350 MiB x 2 unpinned vCPU threads first-touched on node 0, under the
# kernel's balancing, numaplaced and numad in turn (the VM test
# tests/vm/daemon-unpinned.test.sh with NP_UNPINNED_NUMAD=1, SECONDS of
# workload each, default 90). Per run: guest seconds until every guest is
# >= 90% local and stays so (-1: never), pages moved (pgmigrate_success) /
# the minimum 179,200, the longest 1 MiB write slice a guest saw, and the
# balancer's CPU time (numaplaced, numad; the kernel's is not separable).
#
# linux-compare.sh BUILD_DIR --scenario idle-busy|oversub|wide|hugetlb|unpinned|all
# [SECONDS] - the host-like scenarios of issue 12 item 7, each in one boot
# under the kernel's balancing, numad and numaplaced side by side
# (bench/linux-scenarios.sh, whose header describes them and the figures).
set -u
build=${1:?usage: linux-compare.sh BUILD_DIR [SECONDS] | BUILD_DIR --unpinned [SECONDS] | BUILD_DIR --scenario NAME [SECONDS]}
if [ "${2:-}" = --scenario ]; then
    exec "$(cd "$(dirname "$0")" && pwd)/linux-scenarios.sh" "$build" "${3:-}" "${4:-60}"
fi
if [ "${2:-}" = --unpinned ]; then
    here=$(cd "$(dirname "$0")" && pwd)
    res=$(NP_UNPINNED_NUMAD=1 "$here/../tests/vm/daemon-unpinned.test.sh" "$build" "${3:-90}")
    printf '%s\n' "$res" | sed 's/^/test| /' >&2
    printf '%-11s %15s %12s %8s %16s %14s\n' run seconds_to_90 pages_moved ratio longest_stall_ms balancer_cpu_s
    printf '%s\n' "$res" | grep '^RESULT ' | while read -r _ kv; do
        f() { printf '%s\n' "$kv" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
        st=$(f longest_stall_us)
        printf '%-11s %15s %12s %8s %16s %14s\n' "$(f run)" "$(f seconds_to_90)" "$(f pages_moved)" \
            "$(f ratio)" "$(awk -v u="$st" 'BEGIN { if (u == "?") print "?"; else printf "%.1f", u / 1000 }')" \
            "$(f daemon_cpu_s)"
    done
    printf '%s\n' "$res" | grep -E '^(numad:|status replies|PASS|FAIL|[0-9]+ passed)'
    exit 0
fi
secs=${2:-30}
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/.." && pwd)
vm=$src/tests/vm/numa-vm.sh
prog=$build/bench-linux
mkdir -p "$prog"
cc -O2 -Wall -o "$prog/np-wrongnode" "$src/tests/vm/prog/np-wrongnode.c" || exit 1
unshare_bin=$(command -v unshare) || { echo "needs util-linux unshare" >&2; exit 1; }

guest_cmd='
S='"$secs"'
wait_for() { i=0; while ! grep -q -- "$2" "$1" 2>/dev/null; do sleep 0.1; i=$((i+1)); [ $i -lt 3000 ] || return 1; done; }
migr() { sed -n "s/^pgmigrate_success //p" /proc/vmstat; }
# Milliseconds of guest uptime (busybox date has no %N; 10 ms resolution).
up() { awk "{ printf \"%d\", \$1 * 1000 }" /proc/uptime; }
run() { # run NAME: workload for S seconds under what the caller started
    echo "@@run $1"
    m0=$(migr)
    np-wrongnode 400 0 1 $S > /tmp/$1.log 2>&1 & W=$!
    wait_for /tmp/$1.log ^READY
    eval "$2"
    wait $W
    m1=$(migr)
    grep -E "^(READY|t=|FINAL)" /tmp/$1.log
    echo "migrated_pages=$((m1 - m0))"
    eval "$3"
}
echo 1 > /proc/sys/kernel/numa_balancing
run kernel "" ""
echo 0 > /proc/sys/kernel/numa_balancing
run none "" ""
/usr/local/bin/unshare --time --monotonic 100000 numad -d -i 1:3 > /dev/null 2>&1
run numad "" "numad -i 0; sleep 1; grep -E \"Advising|moved to\" /var/log/numad.log | tail -3"
run numaplaced "numaplaced --pid \$W -s /tmp/np.sock -S /tmp/np.state 2> /tmp/npd.log & D=\$!" \
    "kill -TERM \$D; wait \$D; grep -E \"done|locality\" /tmp/npd.log | tail -3"
echo "@@movers"
np-wrongnode 256 0 1 600 > /tmp/mv.log 2>&1 & W=$!
wait_for /tmp/mv.log ^READY
sleep 2
t0=$(up); numactl -C 0 numaplace migrate $W --to 1 --quiet; t1=$(up)
echo "chunked_wall_ms=$((t1 - t0))"
sleep 2; tail -1 /tmp/mv.log | sed "s/^/after_chunked /"
t0=$(up); numactl -C 0 migratepages $W 1 0; t1=$(up)
echo "migratepages_wall_ms=$((t1 - t0))"
sleep 2; kill -TERM $W; wait $W; tail -1 /tmp/mv.log | sed "s/^/after_migratepages /"
grep -E "^t=" /tmp/mv.log | sed "s/^/mv /"
echo "@@end"'

out=$("$vm" -D "$build/numa-vm" -n 2 -c 2 -m 1024 -t $((secs * 6 + 300)) \
    -b "$prog/np-wrongnode" -b "$build/numaplaced" -b "$build/numaplace" -b "$unshare_bin" \
    "$guest_cmd") || { printf '%s\n' "$out"; echo "guest failed" >&2; exit 1; }
printf '%s\n' "$out" | sed 's/^/guest| /' >&2

section() { printf '%s\n' "$out" | awk -v s="@@$1" '/^@@/ { on = ($0 == s); next } on'; }
field() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p" | head -1; }
echo "== locality (share of the workload's pages on the node of the CPU it ran on that second;"
echo "   CPUs 0-1 are node 0, 2-3 node 1) by guest second"
printf '%-6s' t
for r in none kernel numad numaplaced; do printf ' %11s' "$r"; done
echo
tables=""
for r in none kernel numad numaplaced; do
    tables="$tables $(section "run $r" | awk '/^t=/ { split($0, a, " "); t = substr(a[1], 3); n0 = n1 = 0; cpu = 0;
        for (i in a) { if (a[i] ~ /^N0=/) n0 = substr(a[i], 4); if (a[i] ~ /^N1=/) n1 = substr(a[i], 4);
                       if (a[i] ~ /^cpu=/) cpu = substr(a[i], 5) }
        here = (int(cpu / 2) == 0) ? n0 : n1
        printf "%d:%.3f,", int(t + 0.5), (n0 + n1) ? here / (n0 + n1) : 0 }')"
done
for t in $(seq 1 "$secs"); do
    printf '%-6s' "$t"
    for col in $tables; do
        v=$(printf '%s' "$col" | tr ',' '\n' | sed -n "s/^$t://p" | head -1)
        printf ' %11s' "${v:--}"
    done
    echo
done
echo "== pages migrated by the kernel during each run (pgmigrate_success delta)"
for r in none kernel numad numaplaced; do
    echo "$r migrated_pages=$(field "$(section "run $r" | grep '^migrated_pages=')" migrated_pages) \
max_slice_us=$(field "$(section "run $r" | grep '^FINAL')" max_slice_us)"
done
echo "== notes from numad / numaplaced"
section "run numad" | grep -E "Advising|moved to" | sed 's/^/numad: /'
section "run numaplaced" | grep -E "done|locality" | sed 's/^/numaplaced: /'
echo "== movers on 256 MiB (65536 pages), node 0 -> 1 chunked, 1 -> 0 migratepages"
mv=$(section movers)
printf '%s\n' "$mv" | grep -E '^(method=|chunked_wall_ms=|migratepages_wall_ms=|after_)'
c_ms=$(field "$(printf '%s\n' "$mv" | grep '^chunked_wall_ms=')" chunked_wall_ms)
m_ms=$(field "$(printf '%s\n' "$mv" | grep '^migratepages_wall_ms=')" migratepages_wall_ms)
if [ -n "$c_ms" ] && [ -n "$m_ms" ] && [ "$c_ms" -gt 0 ]; then
    echo "throughput_ratio_chunked_over_migratepages=$(awk -v c="$c_ms" -v m="$m_ms" 'BEGIN { printf "%.2f", m / c }')"
    echo "longest_stall: chunked = its longest batch (above), migratepages = its whole call ($m_ms ms)"
fi
