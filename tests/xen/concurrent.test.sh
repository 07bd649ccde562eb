#!/usr/bin/env bash
# concurrent.test.sh BUILD_DIR [ROUNDS] - `numaplace create` started twice
# at the same moment on a Xen 4.17 dom0 never promises a node's memory
# twice and never makes the other creation fail.
#
# Xen 4.17's memory claims are host-wide, so without numaplace's own
# per-node reservations both creations would read node 0's free memory,
# both choose node 0, and Xen would put the second guest's memory wherever
# it still finds some. The host (tests/xen/xen-host.sh): 2 nodes x 2 CPUs x
# 1 GiB, dom0 768 MiB (Xen puts most of it on node 1), so node 0 has the
# most free memory (about 560 MiB above its DMA zone, after the head-room)
# and node 1 about 370 MiB. Two PV guests of 1 vCPU and 320 MiB each both
# want node 0 and cannot both have it. Each round (ROUNDS, default 1, or
# NP_CONCURRENT_ROUNDS; all in one boot) checks:
#   - both creations succeed (exit 0): there is room for both;
#   - the planned memory per node, summed over both plans, is at most what
#     the node had free before (read with --from xen just before);
#   - both guests have their memory where their plan says (`numaplace verify`);
#   - the reservation ledger is empty afterwards;
# then destroys both guests. Skips like topology.test.sh. About 90 s for
# one round with a cached dom0 root, 30-60 s for each further round.
set -u
build=${1:?usage: concurrent.test.sh BUILD_DIR [ROUNDS]}
rounds=${2:-${NP_CONCURRENT_ROUNDS:-1}}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/xen-test-lib.sh"

xen_require "$build"

dom0_script=$(mktemp)
trap 'rm -f "$dom0_script"' EXIT
{ echo "ROUNDS=$rounds"; cat <<'DOM0'
for g in c1 c2; do
    printf 'name="%s"\ntype="pv"\nkernel="/guest/vmlinuz"\nramdisk="/guest/initrd.gz"\nextra="console=hvc0"\nvcpus=1\nmemory=320\n' \
        "$g" >"/tmp/$g.cfg"
done
r=1
while [ $r -le $ROUNDS ]; do
    echo "@@before $r"; ./numaplace topology --from xen --json
    ./numaplace create /tmp/c1.cfg >/tmp/c1.log 2>&1 &
    p1=$!
    ./numaplace create /tmp/c2.cfg >/tmp/c2.log 2>&1 &
    p2=$!
    wait $p1; r1=$?
    wait $p2; r2=$?
    echo "@@rc $r $r1 $r2"
    for g in c1 c2; do echo "@@log $r $g"; cat "/tmp/$g.log"; done
    for g in c1 c2; do echo "@@plan $r $g"; cat "/run/numaplace/$g.plan" 2>/dev/null; done
    for g in c1 c2; do
        echo "@@verify $r $g"
        if xl domid "$g" >/dev/null 2>&1; then ./numaplace verify "$g"; echo "verify-rc $?"; else echo "not built"; fi
    done
    echo "@@ledger $r"; cat /run/numaplace/ledger 2>/dev/null
    for g in c1 c2; do xl destroy "$g" 2>/dev/null; rm -f "/run/numaplace/$g.plan" "/run/numaplace/$g.cfg"; done
    r=$((r + 1))
done
echo "@@end"
DOM0
} >"$dom0_script"
start=$(date +%s)
out=$("$here/xen-host.sh" -n 2 -c 2 -m 1024 -t $((300 + 120 * rounds)) -b "$build" "$dom0_script")
rc=$?
[ $rc = 77 ] && skip "the Xen test host cannot boot here"
echo "xen host run: exit $rc after $(($(date +%s) - start)) s"
printf '%s\n' "$out" | sed 's/^/dom0| /'
check "dom0 ran the script (xen-host.sh exit $rc)" [ $rc = 0 ]

good=0
r=1
while [ "$r" -le "$rounds" ]; do
    fails_before=$failed
    rcs=$(printf '%s\n' "$out" | sed -n "s/^@@rc $r \([0-9]*\) \([0-9]*\)$/\1 \2/p")
    check "round $r: both creations succeeded (exit codes: ${rcs:-none})" [ "$rcs" = "0 0" ]
    free_json=$(section "before $r")
    overcommit=0
    for k in $(printf '%s' "$free_json" | jq -r '.nodes[] | .id' 2>/dev/null); do
        free=$(printf '%s' "$free_json" | jq -r ".nodes[] | select(.id == $k) | .free_bytes")
        planned=$( { section "plan $r c1"; section "plan $r c2"; } | awk -v k="$k" '$1 == "node" && $2 == k { s += $3 } END { printf "%.0f", s }')
        echo "round $r node $k: free before $free bytes, planned by both $planned bytes"
        [ "$planned" -le "$free" ] || overcommit=1
    done
    [ -n "$free_json" ] || overcommit=1
    check "round $r: no node is promised more than it had free" [ $overcommit = 0 ]
    for g in c1 c2; do
        check "round $r: $g's memory and affinity as planned (numaplace verify)" \
            grep -q "verify-rc 0" <<<"$(section "verify $r $g")"
    done
    check "round $r: the reservation ledger is empty afterwards" \
        [ -z "$(section "ledger $r" | tr -d '[:space:]')" ]
    [ "$failed" = "$fails_before" ] && good=$((good + 1))
    r=$((r + 1))
done
echo "rounds passed: $good of $rounds"
finish
