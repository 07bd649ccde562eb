#!/usr/bin/env bash
# concurrent.test.sh BUILD_DIR [RUNS] - `numaplace create` started twice
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
# want node 0 and cannot both have it.
#
# A run (RUNS, default 1, or NP_CONCURRENT_RUNS; all in one boot, since a
# boot costs 1-2 minutes under TCG) is: both creations started at once,
# then the checks, then both guests destroyed. Every run starts from the
# same clean state, checked before it starts: no domain but Domain-0, no
# plan or config file in /run/numaplace, an empty reservation ledger, and
# every node's free memory back to what it was before the first run
# (within 8 MiB; dom0 waits up to 60 s for Xen to take the pages back).
# Per run:
#   - the clean state above;
#   - both creations succeed (exit 0): there is room for both;
#   - the planned memory per node, summed over both plans, is at most what
#     the node had free before (read with --from xen just before);
#   - both guests have their memory where their plan says (`numaplace verify`);
#   - the reservation ledger is empty afterwards.
# Skips like topology.test.sh. About 90 s for one run with a cached dom0
# root, 30-60 s for each further run (more on a loaded machine).
set -u
build=${1:?usage: concurrent.test.sh BUILD_DIR [RUNS]}
rounds=${2:-${NP_CONCURRENT_RUNS:-${NP_CONCURRENT_ROUNDS:-1}}}
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
node_free() { xl info -n | awk '/^numa_info/ { on = 1; next } on && $1 ~ /^[0-9]+:$/ { printf "%s%s", s, $3; s = " " }'; }
others() { xl list | awk 'NR > 1 && $1 != "Domain-0" { print $1 }'; }
free0=$(node_free)
r=1
while [ $r -le $ROUNDS ]; do
    i=0 # Xen takes the last run's pages back (scrubbing) a little after destroy
    while [ $i -lt 60 ]; do
        [ -z "$(others)" ] && echo "$free0 $(node_free)" | awk '{ n = NF / 2; for (k = 1; k <= n; k++) if ($(k + n) < $k - 8) exit 1 }' && break
        sleep 1; i=$((i + 1))
    done
    echo "@@clean $r"
    others | sed 's/^/domain /'
    ls /run/numaplace 2>/dev/null | grep -E '\.(plan|cfg)$' | sed 's/^/file /'
    grep -qs "[^[:space:]]" /run/numaplace/ledger && echo "ledger $(cat /run/numaplace/ledger)"
    echo "$free0 $(node_free)" | awk '{ n = NF / 2; for (k = 1; k <= n; k++) if ($(k + n) < $k - 8) printf "node %d free %d MiB, before run 1 %d MiB\n", k - 1, $(k + n), $k }'
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
out=$("$here/xen-host.sh" -n 2 -c 2 -m 1024 -t $((300 + 150 * rounds)) -b "$build" "$dom0_script")
rc=$?
[ $rc = 77 ] && skip "the Xen test host cannot boot here"
echo "xen host run: exit $rc after $(($(date +%s) - start)) s"
printf '%s\n' "$out" | sed 's/^/dom0| /'
check "dom0 ran the script (xen-host.sh exit $rc)" [ $rc = 0 ]

good=0
r=1
while [ "$r" -le "$rounds" ]; do
    fails_before=$failed
    grep -q "^@@clean $r$" <<<"$out" || { check "run $r: reached" false; r=$((r + 1)); continue; }
    check "run $r: starts from the clean state (no other domain, file or reservation; free memory as before run 1)" \
        [ -z "$(section "clean $r")" ]
    rcs=$(printf '%s\n' "$out" | sed -n "s/^@@rc $r \([0-9]*\) \([0-9]*\)$/\1 \2/p")
    check "run $r: both creations succeeded (exit codes: ${rcs:-none})" [ "$rcs" = "0 0" ]
    free_json=$(section "before $r")
    overcommit=0
    for k in $(printf '%s' "$free_json" | jq -r '.nodes[] | .id' 2>/dev/null); do
        free=$(printf '%s' "$free_json" | jq -r ".nodes[] | select(.id == $k) | .free_bytes")
        planned=$( { section "plan $r c1"; section "plan $r c2"; } | awk -v k="$k" '$1 == "node" && $2 == k { s += $3 } END { printf "%.0f", s }')
        echo "run $r node $k: free before $free bytes, planned by both $planned bytes"
        [ "$planned" -le "$free" ] || overcommit=1
    done
    [ -n "$free_json" ] || overcommit=1
    check "run $r: no node is promised more than it had free" [ $overcommit = 0 ]
    for g in c1 c2; do
        check "run $r: $g's memory and affinity as planned (numaplace verify)" \
            grep -q "verify-rc 0" <<<"$(section "verify $r $g")"
    done
    check "run $r: the reservation ledger is empty afterwards" \
        [ -z "$(section "ledger $r" | tr -d '[:space:]')" ]
    [ "$failed" = "$fails_before" ] && good=$((good + 1))
    r=$((r + 1))
done
echo "runs passed: $good of $rounds"
finish
