#!/usr/bin/env bash
# concurrent.test.sh BUILD_DIR - two `numaplace create` started at the same
# moment on a Xen 4.17 dom0 never promise the same node's memory twice.
#
# Xen 4.17's memory claims are host-wide, so without numaplace's own
# per-node reservations both creations would read node 0's free memory,
# both choose node 0, and Xen would put the second guest's memory wherever
# it still finds some. The host (tests/xen/xen-host.sh): 2 nodes x 2 CPUs x
# 1 GiB, dom0 768 MiB (Xen puts most of it on node 1). Two PV guests of 1
# vCPU and 512 MiB each cannot both fit on node 0. Checked:
#   - both creations end (built, or refused as fitting nowhere), none hangs;
#   - the planned memory per node, summed over both plans, is at most what
#     the node had free before (read with --from xen just before);
#   - every guest that was built has its memory where its plan says
#     (`numaplace verify`);
#   - the reservation ledger is empty afterwards.
# Skips like topology.test.sh. About 90 s with a cached dom0 root.
set -u
build=${1:?usage: concurrent.test.sh BUILD_DIR}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/xen-test-lib.sh"

xen_require "$build"

dom0_script=$(mktemp)
trap 'rm -f "$dom0_script"' EXIT
cat >"$dom0_script" <<'DOM0'
for g in c1 c2; do
    printf 'name="%s"\ntype="pv"\nkernel="/guest/vmlinuz"\nramdisk="/guest/initrd.gz"\nextra="console=hvc0"\nvcpus=1\nmemory=512\n' \
        "$g" >"/tmp/$g.cfg"
done
echo "@@before"; ./numaplace topology --from xen --json
./numaplace create /tmp/c1.cfg >/tmp/c1.log 2>&1 &
p1=$!
./numaplace create /tmp/c2.cfg >/tmp/c2.log 2>&1 &
p2=$!
wait $p1; r1=$?
wait $p2; r2=$?
echo "@@rc $r1 $r2"
for g in c1 c2; do echo "@@log $g"; cat "/tmp/$g.log"; done
for g in c1 c2; do echo "@@plan $g"; cat "/run/numaplace/$g.plan" 2>/dev/null; done
for g in c1 c2; do
    echo "@@verify $g"
    if xl domid "$g" >/dev/null 2>&1; then ./numaplace verify "$g"; echo "verify-rc $?"; else echo "not built"; fi
done
echo "@@ledger"; cat /run/numaplace/ledger 2>/dev/null
echo "@@end"
DOM0
start=$(date +%s)
out=$("$here/xen-host.sh" -n 2 -c 2 -m 1024 -t 600 -b "$build" "$dom0_script")
rc=$?
[ $rc = 77 ] && skip "the Xen test host cannot boot here"
echo "xen host run: exit $rc after $(($(date +%s) - start)) s"
printf '%s\n' "$out" | sed 's/^/dom0| /'
check "dom0 ran the script (xen-host.sh exit $rc)" [ $rc = 0 ]

read -r r1 r2 < <(printf '%s\n' "$out" | sed -n 's/^@@rc \([0-9]*\) \([0-9]*\)$/\1 \2/p')
# 0 = built and as planned; 1 = fits nowhere: both are honest outcomes
check "both creations ended with 0 or 1 (got ${r1:-none} ${r2:-none})" \
    sh -c "case '${r1:-x}${r2:-x}' in 00|01|10) exit 0;; *) exit 1;; esac"
check "at least one guest was built" sh -c "[ '${r1:-x}' = 0 ] || [ '${r2:-x}' = 0 ]"
free_json=$(section before)
overcommit=0
for k in $(printf '%s' "$free_json" | jq -r '.nodes[] | .id' 2>/dev/null); do
    free=$(printf '%s' "$free_json" | jq -r ".nodes[] | select(.id == $k) | .free_bytes")
    planned=$( { section "plan c1"; section "plan c2"; } | awk -v k="$k" '$1 == "node" && $2 == k { s += $3 } END { printf "%.0f", s }')
    echo "node $k: free before $free bytes, planned by both $planned bytes"
    [ "$planned" -le "$free" ] || overcommit=1
done
[ -n "$free_json" ] || overcommit=1
check "no node is promised more than it had free" [ $overcommit = 0 ]
for g in c1 c2; do
    v=$(section "verify $g")
    case $v in
    "not built") ;;
    *) check "$g: memory and affinity as planned (numaplace verify)" grep -q "verify-rc 0" <<<"$v" ;;
    esac
done
check "the reservation ledger is empty afterwards" [ -z "$(section ledger | tr -d '[:space:]')" ]
finish
