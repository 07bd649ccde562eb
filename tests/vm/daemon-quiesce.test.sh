#!/usr/bin/env bash
# daemon-quiesce.test.sh BUILD_DIR - a guest numaplaced stops (SIGSTOP) for
# a quiesced step of its mover never stays stopped when numaplaced ends
# mid-step (src/daemon/quiesce.c). In a 4-node guest (TCG), three QEMU-like
# guests (tests/vm/prog/np-vcpus, 2 writing vCPU threads, 120 MiB each)
# first-touched on node 0, so numaplaced moves memory of at least two;
# move_quiesce = always, so every move call stops its guest. Three times,
# numaplaced is ended at a moment a guest is seen stopped:
#   kill9     kill -9 numaplaced: its guardian resumes the guest;
#   kill9-all kill -9 the guardian, then numaplaced: the guest stays
#             stopped (nobody left to resume it) until the next numaplaced
#             starts and resumes it from the record it wrote;
#   term      SIGTERM: numaplaced resumes the guest before it exits.
# Each check allows 2 s (TCG). About 1-2 minutes.
set -u
build=${1:?usage: daemon-quiesce.test.sh BUILD_DIR}
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
vmdir=${NP_VM_DIR:-$here}
if [ ! -f "$vmdir/vm-test-lib.sh" ] || [ ! -x "$vmdir/numa-vm.sh" ]; then
    echo "SKIP: $vmdir has no numa-vm.sh / vm-test-lib.sh (the VM runner)"
    echo "0 passed, 0 failed"
    exit 0
fi
. "$vmdir/vm-test-lib.sh"
vm_runner=$vmdir/numa-vm.sh
vm_require_host

prog=$build/vm-quiesce
mkdir -p "$prog"
vm_require_built "$build/numaplaced" "$build/numaplace"
vm_cc "$prog/np-vcpus" "$src/tests/vm/prog/np-vcpus.c" -lpthread

guest_cmd='
wait_for() { i=0; while ! grep -q -- "$2" "$1" 2>/dev/null; do sleep 0.1; i=$((i+1)); [ $i -lt 3000 ] || return 1; done; }
st() { awk "{ print \$3 }" /proc/$1/stat 2>/dev/null; }
stopped() { for p in $P1 $P2 $P3; do [ "$(st $p)" = T ] && { echo $p; return 0; }; done; return 1; }
# wait_stopped SECS: the pid of a guest seen stopped, polled every 20 ms
wait_stopped() { n=0; while ! stopped; do sleep 0.02; n=$((n+1)); [ $n -lt $(($1 * 50)) ] || return 1; done; }
# running_after SECS: no guest is stopped within SECS (polled every 0.1 s)
running_after() { n=0; while stopped > /dev/null; do sleep 0.1; n=$((n+1)); [ $n -lt $(($1 * 10)) ] || return 1; done; return 0; }
guardian() { for c in /proc/[0-9]*/comm; do [ "$(cat $c 2>/dev/null)" = numaplaced-grd ] && { p=${c#/proc/}; echo ${p%/comm}; }; done; }
echo 0 > /proc/sys/kernel/numa_balancing
ln -sf /usr/local/bin/np-vcpus /tmp/qemu-system-x86_64
for g in 1 2 3; do
    NP_GO=/tmp/go /tmp/qemu-system-x86_64 -name g$g 120 0 2 600 > /tmp/g$g.log 2>&1 &
    eval P$g=$!
    wait_for /tmp/g$g.log ^READY
done
printf "move_quiesce = always\n" > /tmp/q.conf
start() { numaplaced -c /tmp/q.conf --pid $P1 --pid $P2 --pid $P3 -s /tmp/np.sock -S /tmp/np-state.json -l debug 2>> /tmp/d.log & D=$!; }
touch /tmp/go
start
if p=$(wait_stopped 90); then echo "kill9 seen-stopped=$p"; else echo "kill9 seen-stopped=none"; fi
kill -9 $D; wait $D 2>/dev/null
if running_after 2; then echo "kill9 resumed=yes"; else echo "kill9 resumed=no"; fi

start
G=; n=0; while [ -z "$G" ] && [ $n -lt 100 ]; do sleep 0.1; G=$(guardian); n=$((n+1)); done
if p=$(wait_stopped 90); then
    kill -9 $G $D; wait $D 2>/dev/null
    # The record names every guest stopped at that moment, one a line
    # (several mover threads may each hold one), and may name one more
    # whose stop was under way: it is written before the SIGSTOP. Some
    # guest must stay stopped (nobody is left to resume it), and every
    # guest stopped must be in the record.
    R=$(cut -d" " -f1 /tmp/np-state.json.stopped 2>/dev/null)
    echo "kill9-all seen-stopped=$p guardian=$G record=$(tr " \n" ":," < /tmp/np-state.json.stopped 2>/dev/null)"
    sleep 1
    still=no
    for g in $P1 $P2 $P3; do
        [ "$(st $g)" = T ] || continue
        still=yes
        case " $(echo $R) " in *" $g "*) ;; *) still=no; break ;; esac
    done
    echo "kill9-all still-stopped=$still"
    start
    if running_after 5; then echo "kill9-all resumed-by-restart=yes"; else echo "kill9-all resumed-by-restart=no"; fi
else
    echo "kill9-all seen-stopped=none"; start
fi

if p=$(wait_stopped 90); then echo "term seen-stopped=$p"; else echo "term seen-stopped=none"; fi
kill -TERM $D; wait $D
if running_after 0; then echo "term resumed=yes"; else echo "term resumed=no"; fi
for g in 1 2 3; do kill -TERM $(eval echo \$P$g); done; wait
echo "@@dlog"; grep -E "resumed pid|quiesce|guardian" /tmp/d.log | tail -5
for g in 1 2 3; do grep ^FINAL /tmp/g$g.log; done
'

out=$("$vm_runner" -D "$build/numa-vm" -n 4 -c 2 -m 768,512,512,512 -t 600 \
    -b "$prog/np-vcpus" -b "$build/numaplaced" -b "$build/numaplace" "$guest_cmd")
rc=$?
printf '%s\n' "$out" | sed 's/^/guest| /'
vm_check "guest ran to the end (runner exit $rc)" [ "$rc" = 0 ]
has() { printf '%s\n' "$out" | grep -q -- "$1"; }
vm_check "kill -9: a guest was caught stopped mid-step" has '^kill9 seen-stopped=[0-9]'
vm_check "kill -9: the guardian resumed it within 2 s" has '^kill9 resumed=yes'
vm_check "kill -9 of guardian and daemon: caught mid-step, recorded" \
    has '^kill9-all seen-stopped=[0-9][0-9]* guardian=[0-9][0-9]* record=[0-9]'
vm_check "kill -9 of both: the recorded guest stays stopped (the check can see a stop)" \
    has '^kill9-all still-stopped=yes'
vm_check "kill -9 of both: the next numaplaced resumed it from the record" \
    has '^kill9-all resumed-by-restart=yes'
vm_check "SIGTERM: a guest was caught stopped mid-step" has '^term seen-stopped=[0-9]'
vm_check "SIGTERM: numaplaced resumed it before it exited" has '^term resumed=yes'
vm_check "the restart logged the resume from the record" has 'resumed pid [0-9]*: a previous numaplaced'
vm_finish
