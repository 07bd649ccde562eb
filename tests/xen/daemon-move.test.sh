#!/usr/bin/env bash
# daemon-move.test.sh BUILD_DIR - numaplaced with the Xen backend and
# `xen_memory_move = save-restore` moves a guest's memory to the node its
# vCPUs are pinned to, by saving and restoring the whole guest.
#
# The host (tests/xen/xen-host.sh): 2 nodes x 2 CPUs x 1280 MiB (dom0's
# 768 MiB sit mostly on one node, which may have to hold the moved guest
# and Xen's slack; nodes and dom0 grow with NP_MOVE_GUEST_MIB, dom0
# because the save image lives in a tmpfs of its memory). In dom0: `numaplace create` builds a PV guest np2 (1 vCPU,
# 128 MiB) with its memory on one node, A; once the guest has booted (its
# kernel must answer the suspend request), `xl vcpu-pin np2 all <B's CPUs>
# all` hard-pins its vCPU to the other node, B. numaplaced (--backend xen,
# period 1s) sees a pinned guest whose memory is remote and moves the
# memory to the vCPUs (round.c); the Xen backend does it by save/restore.
# Checked, within XEN_MOVE_DEADLINE_S: the daemon logged the move with the
# pause time; np2 has a new domid; debug key `u` shows at least
# XEN_MOVE_LOCAL_PERCENT of np2's pages on B; its hard affinity is still
# B's CPUs; it runs (not paused); `numaplace status` lists it under the
# new domid; the guest's kernel resumed (its console says "Restarting
# tasks"). Label xen: about 40-80 s with a cached dom0 root. Skips like
# topology.test.sh. The timings it prints go to docs/xen.md.
set -u
build=${1:?usage: daemon-move.test.sh BUILD_DIR}
here=$(cd "$(dirname "$0")" && pwd)
XEN_MOVE_LOCAL_PERCENT=90 # Xen keeps a few pages of a domain elsewhere
. "$here/xen-test-lib.sh"

xen_require "$build" numaplaced

# The guest's size: 128 MiB for CI; NP_MOVE_GUEST_MIB=512 measures how the
# pause grows (docs/xen.md).
guest_mib=${NP_MOVE_GUEST_MIB:-128}
dom0_script=$(mktemp)
trap 'rm -f "$dom0_script"' EXIT
echo "GUEST_MIB=$guest_mib" >"$dom0_script"
cat >>"$dom0_script" <<'DOM0'
XEN_BOOT_DEADLINE_S=240 # a PV guest reaches userspace 10-60 s after xl create under TCG
XEN_MOVE_DEADLINE_S=300 # confirm rounds + save + restore (3 s for 128 MiB) under TCG
dump() { # the last `u` dump
    xl debug-keys u
    xl dmesg | awk "/'u' pressed/ { buf = \"\" } { buf = buf \$0 \"\\n\" } END { printf \"%s\", buf }"
}
printf 'name="np2"\ntype="pv"\nkernel="/guest/vmlinuz"\nramdisk="/guest/initrd.gz"\nextra="console=hvc0"\nvcpus=1\nmemory=%s\n' "$GUEST_MIB" >/tmp/np2.cfg
t=$(date +%s)
./numaplace create /tmp/np2.cfg >/tmp/create.log 2>&1
echo "@@create-rc $? $(($(date +%s) - t))"
cat /tmp/create.log
a=$(awk '$1 == "node" && $3 + 0 > best { best = $3 + 0; n = $2 } END { print n }' /run/numaplace/np2.plan)
b=$((1 - a))
echo "@@nodes $a $b $((2 * b))-$((2 * b + 1)) $(xl domid np2)"
t=$(date +%s)
until grep -q "GUEST: ready" /var/log/xen/console/guest-np2.log 2>/dev/null; do
    [ $(($(date +%s) - t)) -ge $XEN_BOOT_DEADLINE_S ] && break
    sleep 2
done
echo "@@booted $(($(date +%s) - t))"
xl vcpu-pin np2 all "$((2 * b))-$((2 * b + 1))" all
echo "@@dump-before"; dump
echo "@@end-dump"
mkdir -p /tmp/npd/save
# the save image lives in dom0's memory: a tmpfs sized for it (the default
# /tmp takes half of dom0's memory, too little for a large guest)
mount -t tmpfs -o size=$((GUEST_MIB + 64))m tmpfs /tmp/npd/save
printf 'backend = xen\nperiod = 1s\nxen_memory_move = save-restore\nxen_save_dir = /tmp/npd/save\nsocket = /tmp/npd/sock\nstate_file = /tmp/npd/state.json\nlog_level = debug\n' >/tmp/npd/conf
./numaplaced -c /tmp/npd/conf >/tmp/npd/log 2>&1 &
dpid=$!
t=$(date +%s)
moved=no
while [ $(($(date +%s) - t)) -lt $XEN_MOVE_DEADLINE_S ]; do
    grep -q "move: np2 is domain" /tmp/npd/log && { moved=yes; break; }
    grep -q "move: .*failed\|libxl_domain_.*failed" /tmp/npd/log && break
    kill -0 $dpid 2>/dev/null || break
    sleep 2
done
echo "@@moved $moved $(($(date +%s) - t))"
sleep 3 # two more rounds: the daemon finds np2 under its new domid
echo "@@domid $(xl domid np2)"
echo "@@list"; xl list
echo "@@vcpus"; xl vcpu-list np2
echo "@@dump-after"; dump
echo "@@end-dump"
echo "@@status"; ./numaplace status --socket /tmp/npd/sock --json
echo "@@verify"; ./numaplace verify np2; echo "@@verify-rc $?"
kill $dpid
wait $dpid
echo "@@daemon-rc $?"
echo "@@save-dir"; ls /tmp/npd/save | grep -v -e '^lock$' -e '^lost+found$'
echo "@@log"; cat /tmp/npd/log
sleep 2
echo "@@console"; for f in /var/log/xen/console/guest-np2*.log; do echo "== $f"; tail -n 8 "$f"; done
echo "@@end"
DOM0
start=$(date +%s)
# dom0 keeps the save image in its tmpfs: it needs the guest's size on top
# of its usual 768 MiB, and the nodes grow with it.
dom0_mib=$((768 + guest_mib - 128))
out=$("$here/xen-host.sh" -n 2 -c 2 -m $((1024 + 2 * guest_mib)) -t 840 -b "$build" \
    -d "dom0_mem=${dom0_mib}M,max:${dom0_mib}M dom0_max_vcpus=2" -f "$build/numaplaced" \
    "$dom0_script")
rc=$?
[ $rc = 77 ] && skip "the Xen test host cannot boot here"
echo "xen host run: exit $rc after $(($(date +%s) - start)) s"
printf '%s\n' "$out" | sed 's/^/dom0| /'
check "dom0 ran the script (xen-host.sh exit $rc)" [ $rc = 0 ]

read -r create_rc create_s <<<"$(field create-rc)"
check "numaplace create built np2 (exit ${create_rc:-none}, ${create_s:-?} s)" [ "${create_rc:-x}" = 0 ]
read -r a b b_cpus old_domid <<<"$(field nodes)"
echo "np2: memory planned on node ${a:-?}, vCPUs pinned to node ${b:-?} (${b_cpus:-?}); domid ${old_domid:-?}; booted after $(field booted) s"
before=$(dump_share dump-before "${old_domid:-x}" "${a:-0}")
check "before: np2's memory on node ${a:-?} (${before}%)" [ "${before:--1}" -ge $XEN_MOVE_LOCAL_PERCENT ]
read -r moved move_s <<<"$(field moved)"
check "numaplaced moved np2 by save/restore (after ${move_s:-?} s)" [ "${moved:-no}" = yes ]
new_domid=$(field domid)
check "np2 has a new domid (${old_domid:-?} -> ${new_domid:-none})" \
    sh -c '[ -n "$1" ] && [ "$1" != "$2" ]' _ "$new_domid" "${old_domid:-}"
after=$(dump_share dump-after "${new_domid:-x}" "${b:-0}")
check "after: at least $XEN_MOVE_LOCAL_PERCENT% of np2's memory on node ${b:-?} (${after}%)" \
    [ "${after:--1}" -ge $XEN_MOVE_LOCAL_PERCENT ]
hard=$(section vcpus | awk '$1 == "np2" { print $(NF - 2) }')
check "np2's vCPU is still hard-pinned to ${b_cpus:-?} (${hard:-none})" [ "${hard:-x}" = "${b_cpus:-y}" ]
state=$(section list | awk '$1 == "np2" { print $5 }')
check "no domain is left under a temporary name" [ "$(section list | grep -c -- '--np-')" = 0 ]
check "np2 runs, not paused (state ${state:-none})" sh -c "case '${state:-p}' in *p*) exit 1;; esac"
status=$(section status)
check "numaplace status lists np2 under domid ${new_domid:-?}" \
    [ "$(printf '%s' "$status" | jq -r '.guests[] | select(.name == "np2") | .pid' 2>/dev/null)" = "${new_domid:-x}" ]
check "the save image was removed (only the lock is left)" \
    [ -z "$(section save-dir | tr -d '[:space:]')" ]
check "np2's kernel resumed after the restore (console: Restarting tasks)" \
    grep -q "Restarting tasks" <<<"$(section console)"
check "no libxl error about np2's start time after the move" \
    [ "$(section log | grep -c 'get start time')" = 0 ]
check "numaplace verify passes after the move (the plan follows it; exit $(field verify-rc))" \
    [ "$(field verify-rc)" = 0 ]
check "the daemon stopped cleanly on SIGTERM" [ "$(field daemon-rc)" = 0 ]
printf '%s\n' "$out" | grep -E "move: np2|paused" | sed 's/^/timing| /'
finish
