#!/usr/bin/env bash
# daemon-converge.test.sh BUILD_DIR - numaplaced's two decision paths and its
# control socket during a migration, inside a real kernel with 2 NUMA nodes
# (QEMU TCG guest, 1 CPU and 256 MiB per node), the kernel's own NUMA
# balancing off.
#
# Two workloads (tests/vm/prog/np-wrongnode) touch their memory on node 0
# and then run on node 1 (CPU 1; the test's shell stays on CPU 0):
#   WA (48 MiB) pins itself to node 1: pinned by someone else, so only its
#     memory may move (memory follows pinned threads). The daemon runs every
#     12 s at 4 MiB/s: WA's 48 MiB fit one round, in twelve 4 MiB steps,
#     each followed by the rest of the 1 s the budget asks for;
#   WB (16 MiB), started once WA is done, moves itself to node 1 and widens
#     its affinity to all CPUs: nobody pins it, so it is the pure balancer's
#     guest (np_balance through balance_glue.c), which may steer its thread
#     to its memory's node (soft affinity) or move its memory to where it
#     runs. A new daemon with 2 s rounds handles it.
# The test checks:
#   1. the control socket answers while a migration is in progress:
#      `numaplace status`, asked right after WA's first step is logged,
#      replies with WA moving (its reason gives the progress), the rounds
#      go on (the mover thread moves, not the round: the reply counts at
#      least the 2 rounds that decided the move), and the daemon logged the
#      request between WA's steps;
#   2. WA's memory all reaches node 1, the daemon moved at most 10% more than
#      WA had on node 0, and the steps continued one walk (the backend's
#      debug line says "continued walk"); WA's affinity is untouched and
#      `numaplace verify WA` passes;
#   3. the balancer fixed WB: its decision line says which fix (vCPUs
#      steered to the memory's node, or a new home where the vCPUs run and
#      the memory moved there) and `numaplace verify WB` passes.
# Every wait polls with a deadline.
set -u
build=${1:?usage: daemon-converge.test.sh BUILD_DIR}
# shellcheck source=tests/vm/vm-test-lib.sh
. "${NP_VM_DIR:-$(dirname "$0")}/vm-test-lib.sh" 2>/dev/null ||
    { echo "SKIP: no vm-test-lib.sh (the VM runner)"; echo "0 passed, 0 failed"; exit 0; }

vm_start "$build" vm-converge "$build/numaplaced" "$build/numaplace"
src=$vm_src prog=$vm_prog
vm_cc --san "$build/numaplaced" "$prog/np-wrongnode" "$src/tests/vm/prog/np-wrongnode.c"

guest_cmd='
echo 0 > /proc/sys/kernel/numa_balancing
# The shell and its polling on CPU 0: CPU 1 (node 1) is for the workloads.
taskset -p 1 $$ > /dev/null
wait_for() { i=0; while ! grep -q -- "$2" "$1" 2>/dev/null; do sleep 0.1; i=$((i+1)); [ $i -lt ${3:-1200} ] || return 1; done; }
up() { awk "{ printf \"%d\", \$1 * 1000 }" /proc/uptime; }
S=/tmp/np.sock
conf() { printf "period = %s\nmigrate_budget = 4M\ndiscover = pids\nsocket = $S\nstate_file = %s\n" $1 $2 > /tmp/np.conf; }
np-wrongnode 48 0 1 900 > /tmp/wa.log 2>&1 & WA=$!
wait_for /tmp/wa.log ^READY
echo "@@ready-a"; echo "WA=$WA"; grep ^READY /tmp/wa.log
echo "@@affinity-a"; grep Cpus_allowed_list /proc/$WA/status
conf 12s /tmp/np-state-a.json
numactl -C 0 numaplaced -c /tmp/np.conf --pid $WA -l debug 2> /tmp/d.log & D=$!
wait_for /tmp/d.log "pid $WA): moved" 1200
t0=$(up); numaplace status -s $S > /tmp/st.txt 2>&1; r=$?; t1=$(up)
echo "@@status-during"; echo "exit=$r ms=$((t1 - t0))"; cat /tmp/st.txt
wait_for /tmp/d.log "pid $WA): migration node 0 -> 1 done" 1800
echo "@@verify-a"; numaplace verify $WA -s $S; echo "exit=$?"
echo "@@affinity-a-after"; grep Cpus_allowed_list /proc/$WA/status
kill -TERM $WA; wait $WA
echo "@@wa"; tail -1 /tmp/wa.log
# Part 2: a workload nobody pins, for the balancer; rounds every 2 s now.
kill -TERM $D; wait $D
np-wrongnode 16 0 1u 900 > /tmp/wb.log 2>&1 & WB=$!
wait_for /tmp/wb.log ^READY
sleep 1
echo "@@ready-b"; echo "WB=$WB"; grep ^READY /tmp/wb.log; grep Cpus_allowed_list /proc/$WB/status
# A state file of its own: the balancer keys its memory by guest name, and
# WB has the same name as WA (np-wrongnode), so the home of WA would carry over.
conf 2s /tmp/np-state-b.json
numactl -C 0 numaplaced -c /tmp/np.conf --pid $WB -l debug 2>> /tmp/d.log & D=$!
wait_for /tmp/d.log "guest np-wrongnode (pid $WB): \(steer\|migration node 0 -> 1 done\)" 1200
sleep 3
echo "@@verify-b"; numaplace verify $WB -s $S; echo "exit=$?"
kill -TERM $D; wait $D; r=$?; echo "@@stop"; echo "exit=$r"
kill -TERM $WB; wait $WB
echo "@@wb"; tail -1 /tmp/wb.log
echo "@@dlog"; cat /tmp/d.log
echo "@@end"'

out=$("$vm_runner" -D "$build/numa-vm" -n 2 -c 1 -m 256 -t 500 \
    -b "$prog/np-wrongnode" -b "$build/numaplaced" -b "$build/numaplace" "$guest_cmd")
rc=$?
printf '%s\n' "$out" | sed 's/^/guest| /'
vm_check "guest ran to the end (runner exit $rc)" [ "$rc" = 0 ]

section() { printf '%s\n' "$out" | awk -v s="@@$1" '/^@@/ { on = ($0 == s); next } on'; }
field() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p" | head -1; }
has() { printf '%s\n' "$1" | grep -q -- "$2"; }
has_e() { printf '%s\n' "$1" | grep -E -q -- "$2"; }
num() { case $1 in '' | *[!0-9]*) echo -1 ;; *) echo "$1" ;; esac; }

WA=$(field "$(section ready-a)" WA)
readyb=$(section ready-b)
WB=$(field "$readyb" WB)
wa_ready=$(section ready-a | grep '^READY')
wb_ready=$(printf '%s\n' "$readyb" | grep '^READY')
wa_pages=$(num "$(field "$wa_ready" N0)")
vm_check "WA touched 48 MiB on node 0 ($wa_ready)" [ "$wa_pages" = 12288 ]
vm_check "WA pinned itself to node 1" vm_has_line "$(section affinity-a)" "Cpus_allowed_list:	1"
vm_check "WB touched 16 MiB on node 0 ($wb_ready)" [ "$(num "$(field "$wb_ready" N0)")" = 4096 ]
vm_check "WB is free to run anywhere" vm_has_line "$readyb" "Cpus_allowed_list:	0-1"

dlog=$(section dlog)
during=$(section status-during)
ms=$(num "$(field "$(printf '%s\n' "$during" | sed -n 1p)" ms)")
vm_check "status during WA's migration: exit 0 (answered in $ms ms)" vm_has_line "$during" "exit=0 ms=$ms"
vm_check "status shows WA moving" \
    has_e "$during" "^np-wrongnode +$WA .*(migrating|moving: [0-9]+% of [0-9.]+ MiB to node 1)$"
# The round that decides WA's move (all 48 MiB fit its 12 s x 4 MiB/s
# budget) is the second; the mover thread moves it while rounds go on, and
# the daemon logged the request after WA's first step and before the end.
vm_check "status answered with the rounds going on" has_e "$during" "^numaplaced: ([2-9]|[1-9][0-9]+) rounds"
order=$(printf '%s\n' "$dlog" | grep -E "pid $WA\): (moved|migration node 0 -> 1 done)|control: uid 0: status" |
    sed -E -e "s/.*migration node 0 -> 1 done.*/done/" -e "s/.*control: uid 0: status.*/status/" \
        -e "s/.*\): moved .*/moved/" | tr '\n' ' ')
vm_check "log order: a step, the status request, more steps, done ($order)" \
    has_e "$order" "^moved (moved )*status moved( moved)* done"

moved=$(printf '%s\n' "$dlog" | sed -n "s/.*pid $WA): migration node 0 -> 1 done, \([0-9]*\) bytes moved.*/\1/p" | tail -1)
moved=$(num "$moved")
needed=$((wa_pages * 4096))
vm_check "WA: moved $moved bytes for $needed needed (<= 110%, >= 90%)" \
    test "$moved" -le $((needed * 11 / 10)) -a "$moved" -ge $((needed * 9 / 10))
vm_check "WA: later steps continued the first step's walk" has "$dlog" "pid $WA: step of .* (continued walk)"
vm_check "WA: numaplace verify passes (exit 0)" vm_has_line "$(section verify-a)" "exit=0"
wa_final=$(section wa | grep '^FINAL')
vm_check "WA's own count at the end: all 12288 pages on node 1 ($wa_final)" \
    [ "$(num "$(field "$wa_final" N1)")" = 12288 ]
vm_check "WA's affinity (someone else's pin) untouched" \
    vm_has_line "$(section affinity-a-after)" "Cpus_allowed_list:	1"
vm_check "WA: no steering logged" test "$(printf '%s\n' "$dlog" | grep -c "pid $WA): steer")" = 0

# The balancer's decision line: steer the thread to its memory (node 0 has
# CPU room: "vCPUs follow memory", or "home on node 0" with its 16 MiB there
# and the MiB or so of libraries and stack elsewhere to move) or, if not,
# re-home it where it runs (node affinity) and move the memory; which one
# depends on the CPU demand it senses.
fix=$(printf '%s\n' "$dlog" | grep -E "guest np-wrongnode \(pid $WB\): (steer|new memory from)" | head -1)
vm_check "WB: the balancer decided (${fix#*: })" test -n "$fix"
vm_check "WB: the decision follows the balancer's locality rule" \
    has_e "$fix" "(steer vCPU\(s\) to CPUs 0: locality .* (vCPUs follow memory to node 0|home on node 0 \(CPU room, 1[0-9] of [0-9]+ MiB there)|new memory from nodes 1: locality .* memory follows vCPUs to node 1)"
if has "$fix" "new memory from nodes 1"; then
    vm_check "WB: its memory was moved to node 1" has_e "$dlog" "pid $WB\): moved [0-9]+ of [0-9]+ bytes node 0 -> 1"
fi
vm_check "WB: numaplace verify passes (exit 0)" vm_has_line "$(section verify-b)" "exit=0"
vm_check "no balancer round failed" test "$(printf '%s\n' "$dlog" | grep -c 'balancer round failed')" = 0
vm_check "daemon stopped cleanly (exit 0)" vm_has_line "$(section stop)" "exit=0"
vm_finish
