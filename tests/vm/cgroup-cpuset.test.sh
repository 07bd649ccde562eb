#!/usr/bin/env bash
# cgroup-cpuset.test.sh BUILD_DIR - the Linux backend keeps a guest cgroup's
# cpuset.cpus consistent with the affinity it gives the guest's threads,
# inside a real kernel with 2 NUMA nodes (QEMU TCG guest, 1 CPU and 256 MiB
# per node: node 0 = CPU 0, node 1 = CPU 1); and `numaplace ksm` reports and
# sets KSM's merge_across_nodes on that kernel.
#
# A busy shell loop (the "guest") runs in the cgroup v2 /g with
# cpuset.cpus = 0. tests/vm/prog/np-steer drives the backend with
# use_cgroup_cpuset on, as numaplaced does (after a control run with it
# off: the kernel refuses CPU 1 with EINVAL, as the cgroup only allows 0):
#   1. steer (soft) to node 1's CPU 1: the backend first widens cpuset.cpus
#      to 0-1, then the thread's affinity is 1 and it runs on CPU 1;
#   2. steer back to CPU 0: the cgroup is not narrowed (stays 0-1);
#   3. pin (hard) the whole guest to CPU 1: cpuset.cpus narrowed to 1, and
#      the thread runs on CPU 1;
#   4. steer to CPU 0 again: cpuset.cpus widened to 0-1 first.
# Then `numaplace ksm` (KSM stopped, nothing shared) sets merge_across_nodes
# to 0 and the kernel shows 0.
set -u
build=${1:?usage: cgroup-cpuset.test.sh BUILD_DIR}
# shellcheck source=tests/vm/vm-test-lib.sh
. "${NP_VM_DIR:-$(dirname "$0")}/vm-test-lib.sh" 2>/dev/null ||
    { echo "SKIP: no vm-test-lib.sh (the VM runner)"; echo "0 passed, 0 failed"; exit 0; }

lib=$build/libnumaplace.a
vm_start "$build" vm-cgroup "$lib" "$build/numaplace"
src=$vm_src prog=$vm_prog
vm_cc --san "$lib" "$prog/np-steer" "$src/tests/vm/prog/np-steer.c" "$lib"

# Sections between "@@NAME" lines. state: the cgroup's cpuset.cpus, the
# loop's allowed CPUs and the CPU it last ran on (stat field 39), after
# letting it run a while.
guest_cmd='
echo 0 > /proc/sys/kernel/numa_balancing
grep -q " /sys/fs/cgroup cgroup2 " /proc/mounts || mount -t cgroup2 none /sys/fs/cgroup
echo +cpuset > /sys/fs/cgroup/cgroup.subtree_control; mkdir -p /sys/fs/cgroup/g
echo 0 > /sys/fs/cgroup/g/cpuset.cpus
sh -c "while :; do :; done" & W=$!
echo $W > /sys/fs/cgroup/g/cgroup.procs
state() {
    sleep 1
    echo "cgroup=$(cat /sys/fs/cgroup/g/cpuset.cpus)"
    echo "allowed=$(sed -n "s/^Cpus_allowed_list:[[:space:]]*//p" /proc/$W/status)"
    echo "last_cpu=$(cut -d" " -f39 /proc/$W/stat)"
}
echo "@@start"; state
echo "@@control"; np-steer -n $W soft 1; state
echo "@@soft1"; np-steer $W soft 1; state
echo "@@soft0"; np-steer $W soft 0; state
echo "@@hard1"; np-steer $W hard 1; state
echo "@@soft0again"; np-steer $W soft 0; state
kill $W
echo "@@ksm"; numaplace ksm; echo "exit=$?"
echo "@@ksm-set"; numaplace ksm --merge-across-nodes 0; echo "exit=$?"
echo "@@ksm-kernel"; echo "man=$(cat /sys/kernel/mm/ksm/merge_across_nodes 2>/dev/null)"
echo "@@end"'

out=$("$vm_runner" -D "$build/numa-vm" -n 2 -c 1 -m 256 -t 400 \
    -b "$prog/np-steer" -b "$build/numaplace" "$guest_cmd" 2>&1)
rc=$?
printf '%s\n' "$out" | sed 's/^/guest| /'
vm_check "guest ran to the end (runner exit $rc)" [ "$rc" = 0 ]

section() { printf '%s\n' "$out" | awk -v s="@@$1" '/^@@/ { on = ($0 == s); next } on'; }
# val SECTION KEY: the value of a KEY=... line of a section
val() { section "$1" | sed -n "s/^$2=//p" | head -1; }
# state SECTION CGROUP ALLOWED LAST_CPU: the three readings are these
state_is() {
    [ "$(val "$1" cgroup)" = "$2" ] && [ "$(val "$1" allowed)" = "$3" ] &&
        [ "$(val "$1" last_cpu)" = "$4" ]
}
show() { echo "cgroup=$(val "$1" cgroup) allowed=$(val "$1" allowed) last_cpu=$(val "$1" last_cpu)"; }

vm_check "start: cgroup 0, loop allowed 0, runs on 0 ($(show start))" state_is start 0 0 0
vm_check "control, cgroup left alone: the kernel refuses CPU 1 (EINVAL), nothing changes ($(show control))" \
    bash -c 'printf "%s\n" "$1" | grep -qx "rc=-22 vcpus=1"' _ "$(section control)"
vm_check "control: cgroup still 0, thread still on CPU 0" state_is control 0 0 0
vm_check "soft to CPU 1: backend calls succeed" vm_has_line "$(section soft1)" "rc=0 vcpus=1"
vm_check "soft to CPU 1: cpuset.cpus widened to 0-1, thread on CPU 1 ($(show soft1))" \
    state_is soft1 0-1 1 1
vm_check "soft1: the widening was logged" \
    bash -c 'printf "%s\n" "$1" | grep -q "linux/cgroup: /g/cpuset.cpus = 0-1"' _ "$(section soft1)"
vm_check "soft back to CPU 0: cgroup not narrowed, thread on CPU 0 ($(show soft0))" \
    state_is soft0 0-1 0 0
vm_check "hard pin of the whole guest to CPU 1: cgroup narrowed to 1 ($(show hard1))" \
    state_is hard1 1 1 1
vm_check "soft to CPU 0 after the pin: widened again to 0-1 ($(show soft0again))" \
    state_is soft0again 0-1 0 0

ksm=$(section ksm)
if printf '%s\n' "$ksm" | grep -q "not available"; then
    vm_check "ksm: the guest kernel has no KSM; command says so and exits 0" vm_has_line "$ksm" "exit=0"
else
    vm_check "ksm: report shows 2 nodes and recommends 0" \
        bash -c 'printf "%s\n" "$1" | grep -q "^NUMA nodes: *2$" &&
                 printf "%s\n" "$1" | grep -q "^recommendation: *0 "' _ "$ksm"
    vm_check "ksm: set merge_across_nodes 0 exits 0, reports changed" \
        bash -c 'printf "%s\n" "$1" | grep -q "^merge_across_nodes: 0 (changed)$" &&
                 printf "%s\n" "$1" | grep -qx "exit=0"' _ "$(section ksm-set)"
    vm_check "ksm: the kernel shows merge_across_nodes = 0" vm_has_line "$(section ksm-kernel)" "man=0"
fi
vm_finish
