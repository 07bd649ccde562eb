#!/usr/bin/env bash
# smoke.test.sh BUILD_DIR - the multi-node test host works: a 2-node guest
# boots, numactl in it sees both nodes with the CPUs and distances asked for,
# and the runner reports the guest command's exit status, a time-out (124)
# and a guest that died without a status (125).
set -u
build=${1:?usage: smoke.test.sh BUILD_DIR}
# shellcheck source-path=SCRIPTDIR source=vm-test-lib.sh
. "$(dirname "$0")/vm-test-lib.sh"
vm_require_host
cache=$build/numa-vm

out=$("$vm_runner" -D "$cache" -n 2 -c 1 -m 256 -d '10,21;21,10' 'numactl -H; exit 7')
rc=$?
printf '%s\n' "$out" | sed 's/^/guest| /'
vm_check "guest command's exit status 7 comes back" [ "$rc" = 7 ]
vm_check "numactl -H: available: 2 nodes (0-1)" vm_has_line "$out" "available: 2 nodes (0-1)"
vm_check "numactl -H: node 0 cpus: 0" vm_has_line "$out" "node 0 cpus: 0"
vm_check "numactl -H: node 1 cpus: 1" vm_has_line "$out" "node 1 cpus: 1"
vm_check "numactl -H: distance row 0 is 10 21" vm_has_line "$out" "  0:  10  21 "
vm_check "numactl -H: distance row 1 is 21 10" vm_has_line "$out" "  1:  21  10 "

# A guest killed by -t: 124, long before it could boot and run `true`.
"$vm_runner" -D "$cache" -t 1 true >/dev/null 2>&1
rc=$?
vm_check "time-out gives 124 (got $rc)" [ "$rc" = 124 ]

# No init to run: the kernel panics, reboots, QEMU exits without a status.
"$vm_runner" -D "$cache" -a rdinit=/no-such-init true >/dev/null 2>&1
rc=$?
vm_check "guest without a status gives 125 (got $rc)" [ "$rc" = 125 ]

vm_finish
