#!/bin/sh
# host-placement.test.sh BUILD_DIR - issue 14 on the libvirt test host: a
# 2-node QEMU TCG guest running libvirtd (libvirt-host.sh), three domains
# created by numaplace, checked with virsh, numa_maps and verify, one moved
# by hand and brought back by numaplaced --backend libvirt
# (inner-placement.sh), and a placement='auto' domain answered by numaplace
# through the numad stand-in. Labels libvirt and vm.
here=$(cd "$(dirname "$0")" && pwd)
exec "$here/libvirt-host.sh" -n 2 -c 2 -m 1536 -t 1500 -b "$1" -f "$here/../../contrib/libvirt/numad" \
    "$here/inner-placement.sh"
