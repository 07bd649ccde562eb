#!/bin/sh
# create-test-driver.test.sh BUILD_DIR - `numaplace create --libvirt` and
# `numaplace verify --libvirt` on libvirt's test driver (test:///default: 2
# cells of 8 CPUs, 2 MiB and 4 MiB free as the driver reports, a running
# 2-vCPU domain "test"). No hypervisor: the driver keeps domains in the
# process, so each create defines, starts and checks within one run.
#   - a small domain (2 vCPUs, 2 I/O threads, 1 MiB) goes on one node: vcpu
#     cpuset, emulator and both iothreadpins on that node's CPUs, numatune
#     strict on it, the plan written, the check after start "as planned";
#   - a wide one (4 vCPUs, 5 MiB) spans both nodes: guest NUMA cells with
#     distances, a memnode per cell, per-vCPU pins following the cells;
#   - --dry-run writes the XML and plan without defining;
#   - a domain named like a running one is refused (exit 1);
#   - verify --libvirt of "test" against a plan it does not follow exits 1
#     naming the differences; a missing plan exits 2;
#   - numaplace's <metadata> hints: a group is announced and kept in the
#     written XML beside create's record; a malformed one exits 2 naming
#     the file and line.
# Skips (77) when numaplace was built without libvirt.
set -u
build=$1
here=$(cd "$(dirname "$0")" && pwd)
np=$build/numaplace
uri=test:///default
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL $*"; fail=$((fail + 1)); }
has() { grep -q -- "$2" "$1" && ok || { bad "$1 lacks '$2'"; }; }

if "$np" create --libvirt "$here/domains/small.xml" --connect $uri --dir "$tmp" >"$tmp/small.out" 2>&1; then
    ok
else
    if grep -q "built without libvirt" "$tmp/small.out"; then echo "SKIP: no libvirt"; exit 77; fi
    bad "create small exited non-zero"
fi
cat "$tmp/small.out"
has "$tmp/small.out" "placement of np-small: nodes 0 "
has "$tmp/small.out" "defined and started np-small as domain 2"
has "$tmp/small.out" "verify: as planned"
has "$tmp/small.out" "iothread 2   pin 0-7"
has "$tmp/np-small.xml" '<vcpu placement="static" cpuset="0-7">2</vcpu>'
has "$tmp/np-small.xml" '<emulatorpin cpuset="0-7"/>'
has "$tmp/np-small.xml" '<iothreadpin iothread="2" cpuset="0-7"/>'
has "$tmp/np-small.xml" '<shares>1024</shares>'
has "$tmp/np-small.xml" '<memory mode="restrictive" nodeset="0"/>'
has "$tmp/np-small.xml" 'numaplace:placement xmlns:numaplace="https://numaplace.dev/xmlns/libvirt/1" nodes="0"'
has "$tmp/np-small.plan" "vcpu_soft 1 0-7"

"$np" create --libvirt "$here/domains/wide.xml" --connect $uri --dir "$tmp" >"$tmp/wide.out" 2>&1 &&
    ok || bad "create wide exited non-zero"
cat "$tmp/wide.out"
has "$tmp/wide.out" "placement of np-wide: nodes 0,1 "
has "$tmp/wide.out" "verify: as planned"
has "$tmp/np-wide.xml" '<cell id="1" cpus="1-3" memory="3072" unit="KiB">'
has "$tmp/np-wide.xml" '<sibling id="1" value="20"/>'
has "$tmp/np-wide.xml" '<memnode cellid="1" mode="strict" nodeset="1"/>'
has "$tmp/np-wide.xml" '<vcpupin vcpu="3" cpuset="8-15"/>'
has "$tmp/np-wide.xml" '<topology sockets="1" cores="4" threads="1"/>'

mkdir "$tmp/dry"
"$np" create --libvirt "$here/domains/small.xml" --connect $uri --dir "$tmp/dry" --dry-run \
    >"$tmp/dry.out" 2>&1 && ok || bad "dry run exited non-zero"
has "$tmp/dry.out" "dry run: np-small not defined"
[ -f "$tmp/dry/np-small.plan" ] && ok || bad "dry run wrote no plan"

sed 's/np-small/test/' "$here/domains/small.xml" >"$tmp/dup.xml"
"$np" create --libvirt "$tmp/dup.xml" --connect $uri --dir "$tmp" >"$tmp/dup.out" 2>&1
rc=$?
[ $rc = 1 ] && ok || bad "a running name: exit $rc, not 1"
has "$tmp/dup.out" "a domain named test is already running"

printf 'name test\ndomid 1\nvnodes 0\nnode 1 1048576\nvcpu_soft 0 8-15\nvcpu_soft 1 8-15\n' \
    >"$tmp/test.plan"
"$np" verify --libvirt test --connect $uri --dir "$tmp" >"$tmp/verify.out" 2>&1
rc=$?
cat "$tmp/verify.out"
[ $rc = 1 ] && ok || bad "verify of a domain off its plan: exit $rc, not 1"
has "$tmp/verify.out" "vcpu 0    pin 0-15             plan 8-15             DIFFERS"
has "$tmp/verify.out" "numatune  strict all              DIFFERS"
has "$tmp/verify.out" "verify: the domain differs from its plan"
"$np" verify --libvirt nosuch --connect $uri --dir "$tmp" >"$tmp/v2.out" 2>&1
rc=$?
[ $rc = 2 ] && ok || bad "verify without a plan: exit $rc, not 2"
# hints in <metadata>
md="<metadata><numaplace:placement xmlns:numaplace='https://numaplace.dev/xmlns/libvirt/1' group='rep:spread:90'/></metadata>"
sed "s|<name>[^<]*</name>|<name>np-hint</name>$md|" "$here/domains/small.xml" >"$tmp/hint.xml"
mkdir -p "$tmp/h"
"$np" create --libvirt "$tmp/hint.xml" --connect $uri --dir "$tmp/h" --dry-run >"$tmp/hint.out" 2>&1
rc=$?
[ $rc = 0 ] && ok || { bad "create with hints: exit $rc"; cat "$tmp/hint.out"; }
has "$tmp/hint.out" "hints of np-hint: group rep (spread), IO node -1"
has "$tmp/h/np-hint.xml" 'group="rep:spread:90" nodes="'
sed 's/rep:spread:90/rep:spraed/' "$tmp/hint.xml" >"$tmp/badhint.xml"
"$np" create --libvirt "$tmp/badhint.xml" --connect $uri --dir "$tmp/h" --dry-run >"$tmp/badhint.out" 2>&1
rc=$?
cat "$tmp/badhint.out"
[ $rc = 2 ] && ok || bad "create with a malformed hint: exit $rc, not 2"
has "$tmp/badhint.out" "badhint.xml:[0-9]*: <placement group='rep:spraed'>: expected NAME:colocate or NAME:spread"
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
