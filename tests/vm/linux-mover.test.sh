#!/usr/bin/env bash
# linux-mover.test.sh BUILD_DIR - the Linux layer of libnumaplace inside a
# real kernel with 2 NUMA nodes (QEMU TCG guest, 1 CPU and 256 MiB per node).
#
# A workload (tests/vm/prog/np-wrongnode) touches 64 MiB on node 0 and then
# runs on node 1. With the kernel's own NUMA balancing switched off, the
# test drives np-linux-tool (tests/vm/prog, linked with BUILD_DIR's
# libnumaplace.a) to:
#   1. sense the workload: numa_maps and move_pages queries agree that its
#      64 MiB are on node 0; its thread last ran on CPU 1;
#   2. move it with the chunked mover at 8 MiB/s: every page reaches node 1,
#      none fails, and the budget holds (64 MiB take at least 6 s);
#   3. move a second workload with one migrate_pages call (the comparison);
#   4. kill a third workload while a slow (4 MiB/s) move is under way: the
#      mover stops with -ESRCH (exit 3), not an error or a hang;
#   5. set a thread's affinity and read it back;
#   6. run the benchmark (chunked vs migrate_pages, numa_maps vs query);
#   7. put a fourth workload in a cgroup v2, list it from cgroup.procs, write
#      cpuset.cpus/mems = 1 through the layer: the kernel moves its pages.
# The workloads report the longest 1 MiB slice of their write loop, the stall
# each migration path caused (the tools run on CPU 0, the workload on CPU 1,
# so they do not take turns on one CPU); those and the benchmark numbers are
# printed. Under TCG on a shared host they vary a lot from run to run.
#
# Needs the runner tests/vm/numa-vm.sh and vm-test-lib.sh (NP_VM_DIR may name
# another directory holding them).
set -u
build=${1:?usage: linux-mover.test.sh BUILD_DIR}
# shellcheck source=tests/vm/vm-test-lib.sh
. "${NP_VM_DIR:-$(dirname "$0")}/vm-test-lib.sh" 2>/dev/null ||
    { echo "SKIP: no vm-test-lib.sh (the VM runner)"; echo "0 passed, 0 failed"; exit 0; }

# ---- the guest programs ------------------------------------------------------
lib=$build/libnumaplace.a
vm_start "$build" vm-linux "$lib"
src=$vm_src prog=$vm_prog
vm_cc --san "$lib" "$prog/np-wrongnode" "$src/tests/vm/prog/np-wrongnode.c"
vm_cc --san "$lib" "$prog/np-linux-tool" "$src/tests/vm/prog/np-linux-tool.c" "$lib"

# ---- the guest's script ------------------------------------------------------
# Sections between "@@NAME" lines; workloads are waited for by polling with a
# deadline (TCG speed varies a lot with the host's load).
guest_cmd='
echo 0 > /proc/sys/kernel/numa_balancing
ready() { i=0; while ! grep -q "^READY" "$1" 2>/dev/null; do sleep 0.2; i=$((i+1)); [ $i -lt 600 ] || return 1; done; }
start() { np-wrongnode 64 0 1 600 > "$1" 2>&1 & }
# on1 PID: bytes of PID on node 1 by its first sense line (0 when unreadable): the kill below waits
# for 20 of the 64 MiB to be there (more than the first 16 MiB call, so
# that call has returned), not a fixed time (a loaded host
# once took longer than 2 s for the first move call: moved=0).
on1() { b=$(np-linux-tool sense "$1" 2>/dev/null | sed -n "s/.* N1=\([0-9]*\).*/\1/p" | head -n 1); echo "${b:-0}"; }

start /tmp/w1.log; W1=$!; ready /tmp/w1.log
echo "@@w1ready"; grep "^READY" /tmp/w1.log
echo "@@threads"; np-linux-tool threads $W1
echo "@@sense-before"; np-linux-tool sense $W1
echo "@@move"; numactl -C 0 np-linux-tool move -b 8 $W1 0 1; echo "exit=$?"
echo "@@sense-after"; np-linux-tool sense $W1
echo "@@affinity"; np-linux-tool affinity $W1 0; grep Cpus_allowed_list /proc/$W1/status
sleep 1; kill -TERM $W1; wait $W1
echo "@@w1"; tail -3 /tmp/w1.log

start /tmp/w2.log; W2=$!; ready /tmp/w2.log
echo "@@migrate"; numactl -C 0 np-linux-tool migrate $W2 0 1; echo "exit=$?"
sleep 1; kill -TERM $W2; wait $W2
echo "@@w2"; tail -3 /tmp/w2.log

start /tmp/w3.log; W3=$!; ready /tmp/w3.log
numactl -C 0 np-linux-tool move -b 4 $W3 0 1 > /tmp/m3.log 2>&1 & M=$!
i=0; while [ "$(on1 $W3)" -lt 20971520 ]; do sleep 0.2; i=$((i+1)); [ $i -lt 600 ] || break; done; kill -KILL $W3; wait $M; rc=$?; echo "@@m3"; cat /tmp/m3.log; echo "exit=$rc"

start /tmp/w4.log; W4=$!; ready /tmp/w4.log
echo "@@bench-sense"; numactl -C 0 np-linux-tool bench-sense $W4 5
echo "@@bench-move"; numactl -C 0 np-linux-tool bench-move $W4 0 1
kill -TERM $W4; wait $W4
grep -q " /sys/fs/cgroup cgroup2 " /proc/mounts || mount -t cgroup2 none /sys/fs/cgroup
echo +cpuset > /sys/fs/cgroup/cgroup.subtree_control; mkdir -p /sys/fs/cgroup/t
start /tmp/w5.log; W5=$!; ready /tmp/w5.log
echo $W5 > /sys/fs/cgroup/t/cgroup.procs
echo "@@cgroup-procs"; np-linux-tool cgroup-procs /t; echo "want=$W5"
echo "@@cpuset"; np-linux-tool cpuset /t 1 1; grep -E "^(Cpus|Mems)_allowed_list" /proc/$W5/status
sleep 1; kill -TERM $W5; wait $W5
echo "@@w5"; tail -2 /tmp/w5.log
echo "@@ksm"; np-linux-tool ksm
echo "@@nodes"; np-linux-tool nodes
echo "@@end"'

out=$("$vm_runner" -D "$build/numa-vm" -n 2 -c 1 -m 256 -t 500 \
    -b "$prog/np-wrongnode" -b "$prog/np-linux-tool" "$guest_cmd")
rc=$?
printf '%s\n' "$out" | sed 's/^/guest| /'
vm_check "guest ran to the end (runner exit $rc)" [ "$rc" = 0 ]

section() { printf '%s\n' "$out" | awk -v s="@@$1" '/^@@/ { on = ($0 == s); next } on'; }
# field TEXT KEY: the value of KEY=... in TEXT (first match)
field() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p" | head -1; }
num() { case $1 in '' | *[!0-9]*) echo -1 ;; *) echo "$1" ;; esac; }
# all TEST...: every test (a string for `test`) holds; for checks of two facts.
all() {
    local t
    for t in "$@"; do
        # shellcheck disable=SC2086 # each test is split into test's arguments
        test $t || return 1
    done
}
pages=16384 # 64 MiB of 4 KiB pages
bytes=$((64 << 20))

ready=$(section w1ready)
vm_check "workload touched 64 MiB on node 0 ($ready)" \
    all "$(num "$(field "$ready" N0)") = $pages" "$(num "$(field "$ready" N1)") = 0"

threads=$(section threads)
vm_check "threads: the workload's thread last ran on CPU 1 (node 1)" \
    [ "$(field "$threads" last_cpu)" = 1 ]

before=$(section sense-before)
nm_line=$(printf '%s\n' "$before" | grep '^numa_maps')
q_line=$(printf '%s\n' "$before" | grep '^query')
vm_check "numa_maps: >= 64 MiB anonymous on node 0" [ "$(num "$(field "$nm_line" anonN0)")" -ge $bytes ]
vm_check "query: >= 64 MiB anonymous on node 0" [ "$(num "$(field "$q_line" anonN0)")" -ge $bytes ]
vm_check "numa_maps and query agree on node 0 ($(field "$nm_line" N0) vs $(field "$q_line" N0))" \
    [ "$(field "$nm_line" N0)" = "$(field "$q_line" N0)" ]

mv=$(section move)
moved=$(num "$(field "$mv" moved)")
failed=$(num "$(field "$mv" failed)")
elapsed=$(num "$(field "$mv" elapsed_ms)")
longest=$(num "$(field "$mv" longest_batch_us)")
vm_check "chunked mover exits 0" vm_has_line "$mv" "exit=0"
vm_check "chunked mover moved >= $pages pages (moved=$moved)" [ "$moved" -ge $pages ]
vm_check "chunked mover: no page failed (failed=$failed)" [ "$failed" = 0 ]
busy=$(num "$(field "$mv" busy_ms)")
# 64 MiB at 8 MiB/s: 8 s, less the wait after the last batch (at most
# NP_LINUX_MOVE_BATCH_PAGES = 16 MiB = 2 s); far more than the time spent
# moving (TCG moves ~25 MiB/s).
vm_check "8 MiB/s budget: 64 MiB took >= 6000 ms (elapsed_ms=$elapsed, busy_ms=$busy)" \
    all "$elapsed -ge 6000" "$elapsed -gt $busy"
vm_check "longest batch reported (longest_batch_us=$longest)" [ "$longest" -gt 0 ]

after=$(section sense-after)
nm_after=$(printf '%s\n' "$after" | grep '^numa_maps')
vm_check "after the move: >= 64 MiB anonymous on node 1" [ "$(num "$(field "$nm_after" anonN1)")" -ge $bytes ]
vm_check "after the move: < 1 MiB anonymous left on node 0" [ "$(num "$(field "$nm_after" anonN0)")" -lt $((1 << 20)) ]
w1=$(section w1 | grep '^FINAL')
vm_check "workload's own count: all $pages pages on node 1 ($w1)" \
    all "$(num "$(field "$w1" N0)") = 0" "$(num "$(field "$w1" N1)") = $pages"

aff=$(section affinity)
vm_check "affinity set to CPU 0 and read back" vm_has_line "$(printf '%s\n' "$aff" | head -1)" \
    "tid=$(printf '%s\n' "$aff" | head -1 | sed -n 's/^tid=\([0-9]*\).*/\1/p') cpus=0"
vm_check "kernel shows Cpus_allowed_list 0" \
    [ "$(printf '%s\n' "$aff" | sed -n 's/^Cpus_allowed_list:[[:space:]]*//p')" = 0 ]

mig=$(section migrate)
w2=$(section w2 | grep '^FINAL')
vm_check "migrate_pages exits 0" vm_has_line "$mig" "exit=0"
vm_check "migrate_pages moved all pages to node 1 ($w2)" \
    all "$(num "$(field "$w2" N0)") = 0" "$(num "$(field "$w2" N1)") = $pages"

m3=$(section m3)
vm_check "workload killed mid-move: mover exits 3 (-ESRCH)" vm_has_line "$m3" "exit=3"
vm_check "workload killed mid-move: rc=-3 reported" [ "$(field "$(printf '%s\n' "$m3" | grep '^rc=')" rc)" = -3 ]
m3_moved=$(num "$(field "$(printf '%s\n' "$m3" | grep '^rc=')" moved)")
vm_check "workload killed mid-move: some pages had moved, not all (moved=$m3_moved)" \
    all "$m3_moved -gt 0" "$m3_moved -lt $pages"

bs=$(section bench-sense)
bm=$(section bench-move)
vm_check "bench-sense: both methods saw >= 64 MiB" \
    all "$(num "$(field "$bs" numa_maps_bytes)") -ge $bytes" "$(num "$(field "$bs" query_bytes)") -ge $bytes"
vm_check "bench-move: chunked moved >= 64 MiB there, migrate_pages >= 64 MiB back" \
    all "$(num "$(field "$bm" chunked_bytes)") -ge $bytes" "$(num "$(field "$bm" migrate_bytes)") -ge $bytes"
vm_check "nodes: 2 nodes listed" [ "$(section nodes | grep -c '^node=')" = 2 ]

cgp=$(section cgroup-procs)
vm_check "cgroup.procs of /t lists the workload" \
    vm_has_line "$cgp" "pid=$(printf '%s\n' "$cgp" | sed -n 's/^want=//p')"
cs=$(section cpuset)
vm_check "cpuset.cpus/mems of /t written through the layer" vm_has_line "$cs" "rc=0 elapsed_ms=$(field "$cs" elapsed_ms)"
vm_check "the kernel applied them: Cpus_allowed_list 1, Mems_allowed_list 1" \
    all "$(printf '%s\n' "$cs" | grep -c -E '^(Cpus|Mems)_allowed_list:[[:space:]]*1$') = 2"
w5=$(section w5 | grep '^FINAL')
vm_check "writing cpuset.mems migrated the workload's pages to node 1 ($w5)" \
    all "$(num "$(field "$w5" N0)") = 0" "$(num "$(field "$w5" N1)") = $pages"
vm_check "ksm readable (present or not)" [ -n "$(field "$(section ksm)" present)" ]

echo "stalls seen by the workload (max_slice_us): chunked $(field "$w1" max_slice_us), migrate_pages $(field "$w2" max_slice_us)"
echo "benchmark: $bs"
echo "benchmark: $bm"
vm_finish
