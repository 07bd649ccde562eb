#!/usr/bin/env bash
# dom0.test.sh BUILD_DIR - boot Xen with the dom0 options `numaplace dom0`
# recommends and check that dom0's vCPUs and memory follow them.
#
# The host is the one tests/fixtures/xl-info/qemu-2n-pxb-devices.txt was
# captured on: 2 nodes x 2 CPUs x 1 GiB, distance 21, an e1000 behind a
# PCI expander bridge on node 1. `numaplace dom0 --from` that capture
# recommends dom0_nodes=1 (the IO node); --memory 768M because the test
# dom0 must unpack a 135 MB initramfs (docs/xen.md). Xen boots with exactly
# the recommended options; in dom0 `xl vcpu-list Domain-0` must show
# dom0_max_vcpus vCPUs running on node 1's CPUs (2-3), and debug key u must
# show at least XEN_DOM0_LOCAL_PERCENT of dom0's pages on node 1.
# Skips like topology.test.sh. About 45 s with a cached dom0 root.
set -u
build=${1:?usage: dom0.test.sh BUILD_DIR}
here=$(cd "$(dirname "$0")" && pwd)
XEN_DOM0_LOCAL_PERCENT=90 # Xen keeps a few pages of dom0 elsewhere
. "$here/xen-test-lib.sh"

xen_require "$build"
rec=$("$bin" dom0 --from "$here/../fixtures/xl-info/qemu-2n-pxb-devices.txt" --memory 768M --json)
opts=$(printf '%s' "$rec" | jq -r '.cmdline // empty' 2>/dev/null)
echo "numaplace dom0 recommends: $opts"
check "the recommendation names dom0_nodes=1 (the IO node)" grep -q 'dom0_nodes=1' <<<"$opts"
vcpus=$(sed -n 's/.*dom0_max_vcpus=\([0-9]*\).*/\1/p' <<<"$opts")

dom0_script=$(mktemp)
trap 'rm -f "$dom0_script"' EXIT
cat >"$dom0_script" <<'DOM0'
echo "@@cmdline"; xl info | sed -n 's/^xen_commandline *: //p'
echo "@@vcpus"; xl vcpu-list Domain-0
xl debug-keys u
echo "@@dump"; xl dmesg | awk "/'u' pressed/ { buf = \"\" } { buf = buf \$0 \"\\n\" } END { printf \"%s\", buf }"
echo "@@end"
DOM0
start=$(date +%s)
out=$("$here/xen-host.sh" -n 2 -c 2 -m 1024 -D 0:1:21 -t 420 -b "$build" -d "$opts" \
    -q "-device pxb,id=pxb1,bus_nr=8,numa_node=1,bus=pci.0 -device e1000,bus=pxb1,addr=1" \
    "$dom0_script")
rc=$?
[ $rc = 77 ] && skip "the Xen test host cannot boot here"
echo "xen host run: exit $rc after $(($(date +%s) - start)) s"
printf '%s\n' "$out" | sed 's/^/dom0| /'
check "dom0 ran the script (xen-host.sh exit $rc)" [ $rc = 0 ]
check "Xen booted with the recommended options" grep -qF -- "$opts" <<<"$(section cmdline)"
nv=$(section vcpus | awk '$1 == "Domain-0"' | wc -l)
check "dom0 has dom0_max_vcpus=$vcpus vCPUs (has $nv)" [ "$nv" = "${vcpus:-x}" ]
off=$(section vcpus | awk '$1 == "Domain-0" && $4 != "-" && $4 != 2 && $4 != 3' | wc -l)
check "every dom0 vCPU runs on node 1's CPUs 2-3" [ "$off" = 0 ]
pct=$(dump_share dump 0 1)
check "at least $XEN_DOM0_LOCAL_PERCENT% of dom0's memory on node 1 (${pct}%)" \
    [ "${pct:--1}" -ge $XEN_DOM0_LOCAL_PERCENT ]
finish
