#!/usr/bin/env bash
# daemon-unpinned.test.sh BUILD_DIR [SECONDS [MIB]] - the ordinary KVM case
# of issue 12: three QEMU-like guests of MIB (default 192) MiB x 2 vCPU
# threads, nobody pins them, their memory first-touched on node 0 of a
# 4-node guest (2 CPUs and 1.5 GiB / 512 MiB per node, TCG). Node 0 has
# CPUs for one such guest only, so at least two guests' memory (2 x 192 MiB
# = 98,304 pages) must move for all three to be local. The defaults keep
# the test CI-sized (docs/results-linux.md: 350 MiB and 120 s before).
#
# Two runs of the same case in the same guest, each SECONDS (default 100)
# of workload (tests/vm/prog/np-vcpus, run as "qemu-system-x86_64 -name
# gN": numaplace's Linux layer sees QEMU guests with vCPU threads):
#   kernel      kernel.numa_balancing=1, no numaplaced;
# The three guests touch their memory, then wait; the clock of each starts
# when all three are ready (and numaplaced has started), together.
#   numaplaced  kernel.numa_balancing=0, numaplaced --pid for the three
#               guests, default period and budget; `numaplace status` is
#               asked every 5 s (reply time, each guest's reason).
# Each guest prints, once a second, its locality: per vCPU thread, the
# share of the thread's memory on the node of the CPU it runs on.
# The test checks for numaplaced: every guest >= 90% local and staying so
# within twice the kernel's guest time to the same; when the kernel's run
# does not converge within SECONDS, numaplaced converging within SECONDS
# is within twice the kernel's time (the kernel's is more than SECONDS),
# and the test prints both and says so. Pages migrated during the run
# (pgmigrate_success) <= 1.1 x the minimum; no page moved back (no node's page
# count of a guest rises again after it fell); status answered each time
# and showed a reason for any guest below target. It prints the figures
# bench/linux-compare.sh and docs/results-linux.md quote: seconds to >= 90%,
# pages moved / minimum, longest 1 MiB write slice (stall), numaplaced's
# CPU time. With NP_UNPINNED_NUMAD=1 (bench/linux-compare.sh --unpinned) a
# third run does the same under numad (numad -i 1:3, in a time namespace
# 100000 s ahead: numad skips processes for 300 s after boot), for the
# figures only.
set -u
build=${1:?usage: daemon-unpinned.test.sh BUILD_DIR [SECONDS]}
secs=${2:-100}
mib=${3:-192}
min_pages=$((2 * mib * 256)) # two guests' memory in 4 KiB pages
# shellcheck source=tests/vm/vm-test-lib.sh
. "${NP_VM_DIR:-$(dirname "$0")}/vm-test-lib.sh" 2>/dev/null ||
    { echo "SKIP: no vm-test-lib.sh (the VM runner)"; echo "0 passed, 0 failed"; exit 0; }

vm_start "$build" vm-unpinned "$build/numaplaced" "$build/numaplace"
src=$vm_src prog=$vm_prog
vm_cc "$prog/np-vcpus" "$src/tests/vm/prog/np-vcpus.c" -lpthread
vm_cc "$prog/np-ctltime" "$src/tests/vm/prog/np-ctltime.c"

numad=${NP_UNPINNED_NUMAD:-0}
extra=()
if [ "$numad" = 1 ]; then
    unshare_bin=$(command -v unshare) || { echo "SKIP: needs util-linux unshare"; exit 0; }
    extra=(-b "$unshare_bin")
fi

guest_cmd='
S='"$secs"'
MIB='"$mib"'
NUMAD='"$numad"'
wait_for() { i=0; while ! grep -q -- "$2" "$1" 2>/dev/null; do sleep 0.1; i=$((i+1)); [ $i -lt 3000 ] || return 1; done; }
migr() { sed -n "s/^pgmigrate_success //p" /proc/vmstat; }
up() { awk "{ printf \"%d\", \$1 * 1000 }" /proc/uptime; }
ln -sf /usr/local/bin/np-vcpus /tmp/qemu-system-x86_64
start3() { # start3 RUN: three guests, all READY, waiting for /tmp/go-RUN
    for g in 1 2 3; do
        NP_GO=/tmp/go-$1 /tmp/qemu-system-x86_64 -name g$g $MIB 0 2 $S > /tmp/$1-g$g.log 2>&1 &
        eval P$g=$!
        wait_for /tmp/$1-g$g.log ^READY
    done
}
show() { for g in 1 2 3; do echo "@@$1-g$g"; grep -E "^(READY|t=|FINAL)" /tmp/$1-g$g.log; done; }

echo 1 > /proc/sys/kernel/numa_balancing
start3 kernel; m0=$(migr); touch /tmp/go-kernel; wait $P1 $P2 $P3; m1=$(migr)
echo "@@kernel"; echo "migrated=$((m1 - m0))"; show kernel

echo 0 > /proc/sys/kernel/numa_balancing
S0=/tmp/np.sock
start3 np
numaplaced --pid $P1 --pid $P2 --pid $P3 -s $S0 -S /tmp/np-state.json -l debug 2> /tmp/d.log & D=$!
wait_for /tmp/d.log started
m0=$(migr); touch /tmp/go-np
np-ctltime $S0 $((S / 2)) 2000 > /tmp/ctl.txt 2>&1 & C=$!
echo "@@status"
while kill -0 $P1 2>/dev/null; do
    sleep 5
    t0=$(up); numaplace status -s $S0 > /tmp/st.txt 2>&1; r=$?; t1=$(up)
    echo "status exit=$r ms=$((t1 - t0))"; sed -n "3,5p" /tmp/st.txt
done
wait $P1 $P2 $P3; m1=$(migr)
wait $C; echo "@@ctl"; cat /tmp/ctl.txt
cpu=$(awk "{ print \$14 + \$15 }" /proc/$D/stat)
kill -TERM $D; wait $D
echo "@@np"; echo "migrated=$((m1 - m0)) daemon_ticks=$cpu hz=$(getconf CLK_TCK 2>/dev/null || echo 100)"
show np
echo "@@dlog"; grep -v " numaplaced debug: " /tmp/d.log
echo "@@quiesce"; grep "longest stop" /tmp/d.log
if [ "$NUMAD" = 1 ]; then
    start3 numad
    /usr/local/bin/unshare --time --monotonic 100000 numad -d -i 1:3 > /dev/null 2>&1
    m0=$(migr); touch /tmp/go-numad
    wait $P1 $P2 $P3; m1=$(migr)
    N=$(pidof numad); cpu=$(awk "{ print \$14 + \$15 }" /proc/$N/stat)
    numad -i 0; sleep 1
    echo "@@numad"; echo "migrated=$((m1 - m0)) daemon_ticks=$cpu"
    show numad
    echo "@@numadlog"; grep -E "Advising|moved to" /var/log/numad.log | tail -5
fi
echo "@@end"'

out=$("$vm_runner" -D "$build/numa-vm" -n 4 -c 2 -m 1536,512,512,512 -t $((secs * (2 + numad) + 600)) \
    -b "$prog/np-vcpus" -b "$prog/np-ctltime" -b "$build/numaplaced" -b "$build/numaplace" "${extra[@]}" "$guest_cmd")
rc=$?
printf '%s\n' "$out" | sed 's/^/guest| /'
vm_check "guest ran to the end (runner exit $rc)" [ "$rc" = 0 ]

section() { printf '%s\n' "$out" | awk -v s="@@$1" '/^@@/ { on = ($0 == s); next } on'; }
field() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p" | head -1; }
num() { case $1 in '' | *[!0-9]*) echo -1 ;; *) echo "$1" ;; esac; }

# converged RUN: seconds until every guest is >= 0.9 local and stays so
# (the largest over the three guests), or -1.
converged() {
    local run=$1 g worst=0 t
    for g in 1 2 3; do
        t=$(section "$run-g$g" | awk '/^t=/ { split($1, a, "="); split($2, b, "=");
                 if (b[2] + 0 >= 0.9) { if (since == "") since = a[2] } else since = "" }
             END { print (since == "" ? -1 : since) }')
        if [ "$t" = -1 ]; then echo -1; return; fi
        worst=$(awk -v a="$worst" -v b="$t" 'BEGIN { print (b > a ? b : a) }')
    done
    echo "$worst"
}
# moved_back RUN: guests where a node's page count rose by more than 1% of
# the guest's pages after it had fallen by more than 1%.
moved_back() {
    local run=$1 g n=0 one=$((mib * 256 / 100))
    for g in 1 2 3; do
        if section "$run-g$g" | awk -v one="$one" '/^t=|^FINAL/ {
                for (i = 1; i <= NF; i++) if ($i ~ /^N[0-9]+=/) {
                    split($i, a, "="); k = a[1]; v = a[2] + 0; tot[NR] += v;
                    if (k in lo && v < lo[k]) lo[k] = v; else if (!(k in lo)) { lo[k] = v; hi[k] = v }
                    if (v > hi[k]) hi[k] = v;
                    if (lo[k] < first[k] - one && v > lo[k] + one) bad = 1;
                    if (!(k in first)) first[k] = v } }
                END { exit bad ? 0 : 1 }'; then
            n=$((n + 1))
        fi
    done
    echo "$n"
}
kt=$(converged kernel)
nt=$(converged np)
kmig=$(num "$(field "$(section kernel | head -1)" migrated)")
npl=$(section np | head -1)
nmig=$(num "$(field "$npl" migrated)")
ticks=$(num "$(field "$npl" daemon_ticks)")
hz=$(num "$(field "$npl" hz)")
stall() { section "$1-g1"; section "$1-g2"; section "$1-g3"; }
kstall=$(stall kernel | sed -n 's/^FINAL.*max_slice_us=\([0-9]*\).*/\1/p' | sort -n | tail -1)
nstall=$(stall np | sed -n 's/^FINAL.*max_slice_us=\([0-9]*\).*/\1/p' | sort -n | tail -1)
echo "RESULT run=kernel seconds_to_90=$kt pages_moved=$kmig ratio=$(awk -v a="$kmig" -v m=$min_pages 'BEGIN { printf "%.3f", a / m }') longest_stall_us=${kstall:-?}"
# The mover's longest stop of a guest (quiesced steps), from its debug log.
qstop=$(section quiesce | sed -n 's/.*longest stop \([0-9]*\) us.*/\1/p' | sort -n | tail -1)
qsteps=$(section quiesce | sed -n 's/.* \([0-9]*\) quiesced,.*/\1/p' | sort -n | tail -1)
qcost=$(section quiesce | sed -n 's/.*stopped cost \([0-9]*\) us + \([0-9]*\) us\/page.*/\1us+\2us\/page/p' | tail -1)
echo "RESULT run=numaplaced seconds_to_90=$nt pages_moved=$nmig ratio=$(awk -v a="$nmig" -v m=$min_pages 'BEGIN { printf "%.3f", a / m }') longest_stall_us=${nstall:-?} daemon_cpu_s=$(awk -v t="$ticks" -v h="$hz" 'BEGIN { printf "%.2f", t / (h > 0 ? h : 100) }') longest_quiesce_stop_us=${qstop:-0} quiesced_steps_last_mover=${qsteps:-0} stopped_cost_last_fit=${qcost:-?}"

if [ "$numad" = 1 ]; then
    ut=$(converged numad)
    npd=$(section numad | head -1)
    umig=$(num "$(field "$npd" migrated)")
    ustall=$(stall numad | sed -n 's/^FINAL.*max_slice_us=\([0-9]*\).*/\1/p' | sort -n | tail -1)
    echo "RESULT run=numad seconds_to_90=$ut pages_moved=$umig ratio=$(awk -v a="$umig" -v m=$min_pages 'BEGIN { printf "%.3f", a / m }') longest_stall_us=${ustall:-?} daemon_cpu_s=$(awk -v t="$(num "$(field "$npd" daemon_ticks)")" -v h="$hz" 'BEGIN { printf "%.2f", t / (h > 0 ? h : 100) }')"
    section numadlog | sed 's/^/numad: /'
fi
if [ "$(awk -v t="$kt" 'BEGIN { print (t >= 0) }')" = 1 ]; then
    echo "kernel: every guest >= 90% local from ${kt}s; numaplaced must be within 2 x ${kt}s"
    vm_check "numaplaced: every guest >= 90% local from ${nt}s, within 2 x the kernel's ${kt}s" \
        awk -v n="$nt" -v k="$kt" 'BEGIN { exit !(n >= 0 && n <= 2 * k) }'
else
    echo "kernel: not every guest >= 90% local and staying so within the ${secs}s window;" \
        "its time is more than ${secs}s, so numaplaced converging within the window" \
        "(numaplaced: ${nt}s) is within twice the kernel's time"
    vm_check "numaplaced: every guest >= 90% local from ${nt}s, within the ${secs}s window (kernel: not within it)" \
        awk -v n="$nt" 'BEGIN { exit !(n >= 0) }'
fi
vm_check "numaplaced: pages moved $nmig <= 1.1 x $min_pages" \
    test "$nmig" -ge 0 -a "$nmig" -le $((min_pages * 11 / 10))
vm_check "numaplaced: no page moved back ($(moved_back np) guests did)" test "$(moved_back np)" = 0
st=$(section status)
vm_check "status answered every time" test "$(printf '%s\n' "$st" | grep -c 'exit=[^0]')" = 0
slowest=$(printf '%s\n' "$st" | sed -n 's/.*ms=\([0-9]*\).*/\1/p' | sort -n | tail -1)
echo "numaplace status (a process started in the TCG guest each time): $(printf '%s\n' "$st" | grep -c 'exit=0') replies, slowest ${slowest:-?} ms"
# The daemon's own reply time: np-ctltime's requests on the socket, from a
# process already running (no exec of the CLI, which the busy TCG guest
# delays by seconds). daemon-status-sigterm checks < 100 ms with one
# moving guest; here, with two moving and six writers, 1 s.
ctl=$(section ctl)
cmax=$(printf '%s\n' "$ctl" | sed -n 's/^max_ms=\([0-9.]*\) failed=\([0-9]*\).*/\1/p')
cfail=$(printf '%s\n' "$ctl" | sed -n 's/^max_ms=[0-9.]* failed=\([0-9]*\).*/\1/p')
echo "status on the socket: $(printf '%s\n' "$ctl" | grep -c '^sample=') requests, slowest ${cmax:-?} ms, ${cfail:-?} failed"
# Beside each request, a trivial process's echo round trip and how late
# np-ctltime's own sleep woke: when these are as slow as status, the whole
# guest is stalled, not the daemon.
cecho=$(printf '%s\n' "$ctl" | sed -n 's/^max_ms=.* echo_max_ms=\([0-9.]*\).*/\1/p')
clate=$(printf '%s\n' "$ctl" | sed -n 's/^max_ms=.* late_max_ms=\([0-9.]*\).*/\1/p')
conly=$(printf '%s\n' "$ctl" | sed -n 's/^max_ms=.* daemon_only=\([0-9]*\).*/\1/p')
cslow=$(printf '%s\n' "$ctl" | awk '/^sample=/ { split($2, a, "="); if (a[2] + 0 >= 100) n++ } END { print n + 0 }')
echo "beside it: plain socketpair echo slowest ${cecho:-?} ms, sleep woke late by up to ${clate:-?} ms;" \
    "${cslow} status samples >= 100 ms, ${conly:-?} of them with both echoes < 10 ms"
echo "RESULT run=ctl status_max_ms=${cmax:-?} echo_max_ms=${cecho:-?} late_max_ms=${clate:-?} slow=${cslow} slow_with_fast_echo=${conly:-?}"
printf '%s\n' "$ctl" | awk '/^sample=/ { split($2, a, "=");
    if (a[2] + 0 >= 100) print "slow status sample: " $1, $2, $3, $4, $5 }'
vm_check "status on the socket: every request answered within 1 s (slowest ${cmax:-?} ms)" \
    awk -v m="${cmax:-}" -v f="${cfail:-}" 'BEGIN { exit !(m != "" && f == 0 && m + 0 < 1000) }'
dlog=$(section dlog)
vm_check "numaplaced acted on all three guests" \
    test "$(printf '%s\n' "$dlog" | grep -E "guest g[123] \(pid [0-9]+\): new memory from" | sed -E 's/.*guest (g[123]).*/\1/' | sort -u | wc -l)" = 3
vm_check "no balancer round failed" test "$(printf '%s\n' "$dlog" | grep -c 'balancer round failed')" = 0
vm_finish
