#!/usr/bin/env bash
# linux-scenarios.sh BUILD_DIR SCENARIO [SECONDS] - the host-like scenarios
# of issue 12 item 7 (run as `linux-compare.sh BUILD_DIR --scenario NAME`):
# in one boot of a 4-node QEMU TCG guest (2 CPUs per node; 1536 MiB on node
# 0, 512 MiB on nodes 1-3), the same guests under the kernel's automatic
# NUMA balancing, numad and numaplaced in turn, SECONDS (default 60) of
# guest time each, every guest's memory first-touched on node 0.
#
# Guests are tests/vm/prog programs run as "qemu-system-x86_64 -name NAME"
# (numaplace's Linux layer sees QEMU guests whose vCPUs are the "CPU n/KVM"
# threads); np-vcpus guests are unpinned, np-hugeguest guests have their
# writer threads pinned to a node (the hugetlb case: the memory must
# follow). 320-400 MiB per np-vcpus guest: numad ignores processes under
# 300 MB.
#   idle-busy  b1, b2 busy (2 vCPUs, 350 MiB), i1 idle (2 vCPUs that only
#              sleep, 350 MiB)
#   oversub    o1-o3, 3 busy vCPUs and 320 MiB each: 9 vCPUs, 2 CPUs/node
#   wide       w1, 4 busy vCPUs and 400 MiB: wider than any node's 2 CPUs
#   hugetlb    h1 (anon MAP_HUGETLB, writers pinned to node 1), h2 (memfd
#              MFD_HUGETLB, QEMU's memory-backend-memfd,hugetlb=on, writers
#              pinned to node 2), 128 MiB of 2 MiB pages and 2 writers each;
#              pools of 136 pages on node 0 and 72 on nodes 1-3. (With 320
#              MiB guests and 170-page pools numaplaced once refused to
#              move: it counted a node's MemFree as room, which excludes
#              the pool's free huge pages; the balancer now counts hugetlb
#              bytes against the pool - docs/results-linux.md.) Under 300
#              MB: numad ignores these guests by its own threshold.
#   unpinned   g1-g3, 2 busy vCPUs and 350 MiB each (the VM test
#              tests/vm/daemon-unpinned.test.sh, here with numad too)
# Figures per regime, as RESULT lines and a table:
#   seconds_to_90  guest seconds until every guest is >= 90% local and
#                  stays so (-1: never). Locality: np-vcpus's own loc (per
#                  vCPU thread, its memory's share on the node of the CPU it
#                  runs on; idle guests included), np-hugeguest's huge pages
#                  on its writers' node / all;
#   pages_moved    pgmigrate_success delta (base pages: a 2 MiB page counts
#                  512) and its ratio to min_pages: the pages of the vCPUs
#                  node 0 cannot run, (V - C0) / V of the memory, V the busy
#                  vCPUs, C0 = max(2, ceil(V / 4)) node 0's share; for
#                  hugetlb all of it;
#   stall_ms       the longest 1 MiB write slice any guest's vCPU took;
#   cpu_s          the balancer's CPU time (numad, numaplaced; the kernel's
#                  balancing runs in the workload's own context: "-").
set -u
build=${1:?usage: linux-scenarios.sh BUILD_DIR idle-busy|oversub|wide|hugetlb|unpinned|all [SECONDS]}
scen=${2:-}
secs=${3:-60}
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/.." && pwd)
if [ "$scen" = all ]; then
    rc=0
    for s in idle-busy oversub wide hugetlb unpinned; do
        "$0" "$build" "$s" "$secs" || rc=1
    done
    exit $rc
fi
# Guests: NAME PROGRAM MIB VCPUS IDLE RUN_NODE (RUN_NODE: pinned writers'
# node for np-hugeguest, "-" for unpinned np-vcpus).
case $scen in
idle-busy) guests="b1 vcpus 350 2 0 -;i1 vcpus 350 2 1 -;b2 vcpus 350 2 0 -" ;;
oversub) guests="o1 vcpus 320 3 0 -;o2 vcpus 320 3 0 -;o3 vcpus 320 3 0 -" ;;
wide) guests="w1 vcpus 400 4 0 -" ;;
hugetlb) guests="h1 anon 128 2 0 1;h2 memfd 128 2 0 2" ;;
unpinned) guests="g1 vcpus 350 2 0 -;g2 vcpus 350 2 0 -;g3 vcpus 350 2 0 -" ;;
*)
    echo "linux-scenarios.sh: unknown scenario '$scen' (idle-busy, oversub, wide, hugetlb, unpinned, all)" >&2
    exit 2
    ;;
esac
case $secs in '' | *[!0-9]*) echo "linux-scenarios.sh: SECONDS must be a number, not '$secs'" >&2; exit 2 ;; esac

# min_pages: see the header.
min_pages=$(printf '%s\n' "$guests" | tr ';' '\n' | awk '
    { pages = $3 * 256; if ($2 != "vcpus") { huge += pages; next }
      if ($5 == 1) next; v += $4; tot += pages; per[NR] = pages / $4 }
    END { c0 = int((v + 3) / 4); if (c0 < 2) c0 = 2; if (c0 > v) c0 = v
          printf "%d", huge + (v ? tot * (v - c0) / v : 0) }')

vm=$src/tests/vm/numa-vm.sh
prog=$build/bench-scenarios
mkdir -p "$prog"
cc -O2 -Wall -o "$prog/np-vcpus" "$src/tests/vm/prog/np-vcpus.c" -lpthread || exit 1
cc -O2 -Wall -o "$prog/np-hugeguest" "$src/tests/vm/prog/np-hugeguest.c" -lpthread || exit 1
unshare_bin=$(command -v unshare) || { echo "needs util-linux unshare" >&2; exit 1; }

guest_cmd='
S='"$secs"'
G="'"$guests"'"
wait_for() { i=0; while ! grep -q -- "$2" "$1" 2>/dev/null; do sleep 0.1; i=$((i+1)); [ $i -lt 3000 ] || return 1; done; }
migr() { sed -n "s/^pgmigrate_success //p" /proc/vmstat; }
ln -sf /usr/local/bin/np-vcpus /tmp/qemu-vcpus; mkdir -p /tmp/v /tmp/h
ln -sf /usr/local/bin/np-vcpus /tmp/v/qemu-system-x86_64
ln -sf /usr/local/bin/np-hugeguest /tmp/h/qemu-system-x86_64
if printf "%s\n" "$G" | grep -q "anon\|memfd"; then
    for n in 0 1 2 3; do echo 72 > /sys/devices/system/node/node$n/hugepages/hugepages-2048kB/nr_hugepages; done
    echo 136 > /sys/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages
    echo "@@pools"; grep -H . /sys/devices/system/node/node*/hugepages/hugepages-2048kB/nr_hugepages
fi
start() { # start RUN: every guest READY (np-vcpus ones wait for /tmp/go-RUN)
    PIDS=""; NAMES=""
    IFS=";"; set -- $G; unset IFS
    for spec in "$@"; do
        set -- $spec
        if [ $2 = vcpus ]; then
            NP_GO=/tmp/go-$RUN NP_IDLE=$5 /tmp/v/qemu-system-x86_64 -name $1 $3 0 $4 $S > /tmp/$RUN-$1.log 2>&1 &
        else
            /tmp/h/qemu-system-x86_64 -name $1 $2 $3 0 $6 $4 $S > /tmp/$RUN-$1.log 2>&1 &
        fi
        PIDS="$PIDS $!"; NAMES="$NAMES $1"
        wait_for /tmp/$RUN-$1.log ^READY
    done
}
show() { for n in $NAMES; do echo "@@$RUN-$n"; grep -E "^(READY|t=|FINAL)" /tmp/$RUN-$n.log; done; }
ticks() { awk "{ print \$14 + \$15 }" /proc/$1/stat; }

RUN=kernel; echo 1 > /proc/sys/kernel/numa_balancing
start; m0=$(migr); touch /tmp/go-$RUN; wait $PIDS; m1=$(migr)
echo "@@$RUN"; echo "migrated=$((m1 - m0)) ticks=-"; show
echo 0 > /proc/sys/kernel/numa_balancing

RUN=numad; start
/usr/local/bin/unshare --time --monotonic 100000 numad -d -i 1:3 > /dev/null 2>&1
m0=$(migr); touch /tmp/go-$RUN; wait $PIDS; m1=$(migr)
N=$(pidof numad); t=$(ticks $N); numad -i 0; sleep 1
echo "@@$RUN"; echo "migrated=$((m1 - m0)) ticks=$t"; show
echo "@@numadlog"; grep -E "Advising|moved to|igrat" /var/log/numad.log | tail -8

RUN=numaplaced; start
A=""; for p in $PIDS; do A="$A --pid $p"; done
numaplaced $A -s /tmp/np.sock -S /tmp/np-state.json -l debug 2> /tmp/d.log & D=$!
wait_for /tmp/d.log started
m0=$(migr); touch /tmp/go-$RUN
# status 5 s before the guests end (each reason is shown while they live)
( sleep $((S > 5 ? S - 5 : 1)); numaplace status -s /tmp/np.sock > /tmp/st.txt 2>&1 ) & Q=$!
wait $PIDS; m1=$(migr); wait $Q
t=$(ticks $D)
kill -TERM $D; wait $D
echo "@@$RUN"; echo "migrated=$((m1 - m0)) ticks=$t"; show
echo "@@status"; cat /tmp/st.txt
echo "@@dlog"; grep -v " numaplaced debug: " /tmp/d.log | tail -30
echo "@@hz"; getconf CLK_TCK 2>/dev/null || echo 100
echo "@@end"'

out=$("$vm" -D "$build/numa-vm" -n 4 -c 2 -m 1536,512,512,512 -t $((secs * 3 + 900)) \
    -b "$prog/np-vcpus" -b "$prog/np-hugeguest" -b "$build/numaplaced" -b "$build/numaplace" \
    -b "$unshare_bin" "$guest_cmd") || {
    printf '%s\n' "$out"
    echo "linux-scenarios.sh: the guest failed" >&2
    exit 1
}
printf '%s\n' "$out" | sed "s/^/guest($scen)| /" >&2

section() { printf '%s\n' "$out" | awk -v s="@@$1" '/^@@/ { on = ($0 == s); next } on'; }
field() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p" | head -1; }
hz=$(section hz | head -1)
names=$(printf '%s\n' "$guests" | tr ';' '\n' | awk '{ print $1 }')
# since RUN NAME RUN_NODE: guest seconds from which it stays >= 0.9 local.
since() {
    section "$1-$2" | awk -v rn="$3" '/^t=/ {
        t = substr($1, 3) + 0; loc = -1
        for (i = 2; i <= NF; i++) {
            if ($i ~ /^loc=/) loc = substr($i, 5) + 0
            if ($i ~ /^N[0-9]+=/) { split($i, a, "="); n = substr(a[1], 2); tot += 0; cnt[n] = a[2] + 0 }
        }
        if (loc < 0) { s = 0; for (n in cnt) s += cnt[n]; loc = s ? cnt[rn] / s : 0; delete cnt }
        if (loc >= 0.9) { if (from == "") from = t } else from = ""
        last = loc }
        /^FINAL/ { # the locality at the end: the FINAL line
            fin = -1; delete cnt
            for (i = 2; i <= NF; i++) {
                if ($i ~ /^loc=/) fin = substr($i, 5) + 0
                if ($i ~ /^N[0-9]+=/) { split($i, a, "="); cnt[substr(a[1], 2)] = a[2] + 0 }
            }
            if (fin < 0) { s = 0; for (n in cnt) s += cnt[n]; fin = s ? cnt[rn] / s : 0 } }
        END { printf "%s %.3f\n", (from == "" ? -1 : from), (fin == "" ? last : fin) }'
}
echo "== scenario $scen: $(printf '%s\n' "$guests" | tr ';' ',') (NAME PROGRAM MIB VCPUS IDLE RUN_NODE); $secs s per regime; min_pages=$min_pages"
printf '%-11s %14s %12s %8s %10s %7s  %s\n' regime seconds_to_90 pages_moved ratio stall_ms cpu_s final_locality
for r in kernel numad numaplaced; do
    head=$(section "$r" | head -1)
    worst=0 finals="" stall=0
    for n in $names; do
        rn=$(printf '%s\n' "$guests" | tr ';' '\n' | awk -v n="$n" '$1 == n { print $6 }')
        read -r from last <<<"$(since "$r" "$n" "$rn")"
        finals="$finals $n=$last"
        if [ "$from" = -1 ] || [ "$worst" = -1 ]; then worst=-1; else
            worst=$(awk -v a="$worst" -v b="$from" 'BEGIN { print (b > a ? b : a) }'); fi
        s=$(section "$r-$n" | sed -n 's/^FINAL.*max_slice_us=\([0-9]*\).*/\1/p')
        [ "${s:-0}" -gt "$stall" ] && stall=$s
    done
    mig=$(field "$head" migrated)
    tk=$(field "$head" ticks)
    cpu=$( [ "$tk" = - ] && echo - || awk -v t="$tk" -v h="${hz:-100}" 'BEGIN { printf "%.2f", t / h }')
    ratio=$(awk -v a="${mig:-0}" -v m="$min_pages" 'BEGIN { printf "%.3f", m ? a / m : 0 }')
    printf '%-11s %14s %12s %8s %10s %7s  %s\n' "$r" "$worst" "${mig:-?}" "$ratio" \
        "$(awk -v u="$stall" 'BEGIN { printf "%.1f", u / 1000 }')" "$cpu" "${finals# }"
    echo "RESULT scenario=$scen regime=$r seconds_to_90=$worst pages_moved=${mig:-?} min_pages=$min_pages ratio=$ratio stall_us=$stall cpu_s=$cpu final=${finals# }" >&2
done
echo "-- numad's log:"
section numadlog | sed 's/^/   /'
echo "-- numaplace status 5 s before the end of the numaplaced run:"
section status | sed 's/^/   /'
echo "-- numaplaced's log (info and above, last lines):"
section dlog | sed 's/^/   /'
