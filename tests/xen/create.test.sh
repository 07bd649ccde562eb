#!/usr/bin/env bash
# create.test.sh BUILD_DIR - `numaplace create` in place of `xl create` on a
# Xen 4.17 dom0 (issue 15): the user's choices kept, a UUID per guest,
# refusals that leave nothing behind, verify for every guest.
#
# The host (tests/xen/xen-host.sh): 4 nodes x 2 CPUs x 1 GiB, dom0 1 GiB.
# In dom0:
#   - s1, s2: PV, 2 vCPUs, 256 MiB each, left to numaplace: each on ONE node
#     (a PV guest has no vNUMA; split, half its memory would be remote);
#   - h1: PV cpus="6-7" and k1: PV cpus_soft="4-5": created exactly as
#     written (xl's own affinity), plan "source user", verify OK;
#   - v3: PVH with a user-written vnuma= of 3 vnodes on nodes 0,1,2: built
#     (libxl 4.17's size probe and undersized distance buffer worked around
#     by the preload shim), each vnode's memory on its pnode, verify OK;
#   - b1: PV memory=128 maxmem=256: planned 128 MiB (memory, not maxmem),
#     verify OK right after the build;
#   - x1: created by plain `xl create`: `numaplace verify x1` checks it
#     against its own affinity (no plan file) and passes;
#   - every guest has its own UUID; after `xl destroy s2`, `xl uptime` still
#     lists every other guest (no shared /vm entry);
#   - refusals, each before anything is placed, reserved, written or built
#     (no domain of the name, no DIR/NAME.cfg or .plan, an empty ledger):
#     a syntax error, a config xl rejects (unknown type), vnuma= on a PV
#     guest, a vnode on a node the host lacks (pnode=7), a guest larger
#     than the host's free memory (6 GiB), a name in use (s1 again: s1
#     stays as it was);
#   - h1 (cpus="6-7" alone): memory on node 3, the node of those CPUs
#     (libxl 4.17 alone may put it elsewhere; numaplace adds cpus_soft).
# Label xen-long: about 4-6 minutes with a cached dom0 root.
set -u
build=${1:?usage: create.test.sh BUILD_DIR}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/xen-test-lib.sh"

xen_require "$build"

dom0_script=$(mktemp)
trap 'rm -f "$dom0_script"' EXIT
cat >"$dom0_script" <<'DOM0'
mk() { # mk NAME TYPE VCPUS MEMORY_MIB [EXTRA LINE]...
    n=$1 t=$2 v=$3 m=$4
    shift 4
    { printf 'name="%s"\ntype="%s"\nkernel="/guest/vmlinuz"\nramdisk="/guest/initrd.gz"\nextra="console=hvc0"\nvcpus=%s\nmemory=%s\n' "$n" "$t" "$v" "$m"
      for l in "$@"; do printf '%s\n' "$l"; done; } >"/tmp/$n.cfg"
}
left() { # what a refused creation of NAME left behind
    xl domid "$1" >/dev/null 2>&1 && echo "domain $1 exists"
    [ -e "/run/numaplace/$1.cfg" ] && echo "file /run/numaplace/$1.cfg"
    [ -e "/run/numaplace/$1.plan" ] && echo "file /run/numaplace/$1.plan"
    [ -s /run/numaplace/ledger ] && echo "ledger: $(cat /run/numaplace/ledger)"
    true
}
create() { # create NAME: numaplace create, its output and exit status
    echo "@@create $1"
    ./numaplace create "/tmp/$1.cfg" 2>&1
    echo "create-rc $?"
}
mk s1 pv 2 256
mk s2 pv 2 256
mk h1 pv 2 128 'cpus="6-7"'
mk k1 pv 2 128 'cpus_soft="4-5"'
mk v3 pvh 3 384 'vnuma=[ ["pnode=0","size=128","vcpus=0","vdistances=10,20,30"], ["pnode=1","size=128","vcpus=1","vdistances=20,10,20"], ["pnode=2","size=128","vcpus=2","vdistances=30,20,10"] ]'
mk b1 pv 1 128 'maxmem=256'
mk x1 pv 1 128
mk bad1 pv 1 128 'vcpus = = 2'
mk bad2 foo 1 128
mk bad3 pv 2 256 'vnuma=[ ["pnode=0","size=128","vcpus=0","vdistances=10,20"], ["pnode=1","size=128","vcpus=1","vdistances=20,10"] ]'
mk bad4 pvh 2 256 'vnuma=[ ["pnode=0","size=128","vcpus=0","vdistances=10,20"], ["pnode=7","size=128","vcpus=1","vdistances=20,10"] ]'
mk bad5 pv 2 6144
for g in s1 s2 h1 k1 v3 b1; do create $g; done
xl create /tmp/x1.cfg >/tmp/x1.log 2>&1; r=$?; echo "@@xl-create-x1 $r"; [ $r = 0 ] || sed "s/^/    xl: /" /tmp/x1.log
for g in bad1 bad2 bad3 bad4 bad5; do create $g; echo "@@left $g"; left $g; done
before=$(xl list | awk 'NR > 1 { print $1, $2 }' | tr '\n' ' ')
create s1
echo "@@left-s1"; [ "$(xl list | awk 'NR > 1 { print $1, $2 }' | tr '\n' ' ')" = "$before" ] || echo "domains changed"
for g in s1 s2 h1 k1 v3 b1; do echo "@@plan $g"; cat "/run/numaplace/$g.plan" 2>/dev/null; done
for g in s1 s2 h1 k1 v3 b1 x1; do echo "@@verify $g"; ./numaplace verify "$g" 2>&1; echo "verify-rc $?"; done
echo "@@vcpus"; xl vcpu-list
echo "@@uuids"; xl list -v | awk 'NR > 1 { print $1, $(NF - 2) }'
xl destroy s2
echo "@@uptime"; xl uptime 2>&1
echo "@@u"; xl debug-keys u; xl dmesg | tail -n 80
echo "@@ledger"; cat /run/numaplace/ledger 2>/dev/null
echo "@@end"
DOM0
start=$(date +%s)
out=$("$here/xen-host.sh" -n 4 -c 2 -m 1024 -d "dom0_mem=1024M,max:1024M dom0_max_vcpus=2" \
    -t 900 -b "$build" "$dom0_script")
rc=$?
[ $rc = 77 ] && skip "the Xen test host cannot boot here"
echo "xen host run: exit $rc after $(($(date +%s) - start)) s"
printf '%s\n' "$out" | sed 's/^/dom0| /'
check "dom0 ran the script (xen-host.sh exit $rc)" [ $rc = 0 ]

created() { section "create $1" | grep -q "^create-rc 0$"; }
nodes_of() { # nodes holding >= 10% of domain NAME's pages in the final u dump
    local id
    id=$(section vcpus | awk -v n="$1" '$1 == n { print $2; exit }')
    [ -n "$id" ] || return 0
    section u | awk -v d="$id" '
        /Domain [0-9]+ \(total:/ { on = ($0 ~ ("Domain " d " \\(total:")); next }
        on && /Node [0-9]+: [0-9]+$/ { for (i = 1; i <= NF; i++) if ($i == "Node") n = $(i + 1) + 0
                                       p[n] = $NF; t += $NF }
        END { s = ""; for (k in p) if (t && p[k] * 10 >= t) s = s k; print s }'
}
for g in s1 s2 h1 k1 v3 b1; do check "$g: created (exit 0)" created $g; done
check "x1: created by xl create" [ "$(field xl-create-x1)" = 0 ]
for g in s1; do
    check "$g: one node (PV, fits one)" [ "$(section "plan $g" | grep -c '^node ')" = 1 ]
done
check "s1: verify OK" grep -q "verify-rc 0" <<<"$(section 'verify s1')"
check "h1: kept as written: hard affinity 6-7 on every vCPU" \
    sh -c "[ \"\$(printf '%s\n' \"\$0\" | awk '\$1 == \"h1\" { print \$7 }' | sort -u)\" = 6-7 ]" "$(section vcpus)"
check "k1: kept as written: soft affinity 4-5 on every vCPU" \
    sh -c "[ \"\$(printf '%s\n' \"\$0\" | awk '\$1 == \"k1\" { print \$9 }' | sort -u)\" = 4-5 ]" "$(section vcpus)"
check "h1: memory on node 3, the node of its CPUs 6-7 (numaplace adds cpus_soft)" [ "$(nodes_of h1)" = 3 ]
for g in h1 k1 v3; do
    check "$g: plan is the user's (source user)" grep -q "^source user$" <<<"$(section "plan $g")"
done
for g in h1 k1 v3 b1; do
    check "$g: verify OK" grep -q "verify-rc 0" <<<"$(section "verify $g")"
done
check "v3: 3 vnodes planned on nodes 0,1,2" sh -c "grep -q '^vnodes 3' && true" <<<"$(section 'plan v3')"
check "b1: planned 128 MiB (memory), not maxmem" \
    sh -c "[ \"\$(awk '\$1 == \"node\" { s += \$3 } END { print s }')\" = 134217728 ]" <<<"$(section 'plan b1')"
check "x1 (no plan): verify checks its own affinity and passes" \
    sh -c 'grep -q "no plan file" && true' <<<"$(section 'verify x1')"
check "x1 (no plan): verify exit 0" grep -q "verify-rc 0" <<<"$(section 'verify x1')"
for g in bad1 bad2 bad3 bad4 bad5; do
    check "$g: refused (exit 2)" grep -q "^create-rc 2$" <<<"$(section "create $g")"
    check "$g: nothing left behind" [ -z "$(section "left $g")" ]
done
check "s1 again: refused, name in use (exit 2)" sh -c 'section() { :; }; grep -q "exists already"' <<<"$(printf '%s\n' "$out" | awk '/^@@create s1$/ { n++ } n == 2')"
check "s1 again: the domains are as before" [ -z "$(section left-s1)" ]
uuids=$(section uuids)
check "every guest has a UUID of its own" \
    sh -c '[ "$(printf "%s\n" "$0" | awk "{ print \$2 }" | sort | uniq -d | wc -l)" = 0 ] && [ "$(printf "%s\n" "$0" | grep -c 00000000-0000-0000-0000-000000000000)" -le 1 ]' "$uuids"
up=$(section uptime)
for g in s1 h1 k1 v3 b1 x1; do
    check "$g: listed by xl uptime after s2 was destroyed" grep -q "^$g " <<<"$up"
done
check "no 'Can't get start time'" sh -c '! grep -q "start time"' <<<"$up"
check "the reservation ledger is empty afterwards" [ -z "$(section ledger | tr -d '[:space:]')" ]
finish
