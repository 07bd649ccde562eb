#!/bin/sh
# host-placement.test.sh BUILD_DIR - issue 14 on the libvirt test host: a
# 2-node QEMU TCG guest running libvirtd (libvirt-host.sh), three domains
# created by numaplace, checked with virsh, numa_maps and verify, one moved
# by hand and brought back by numaplaced --backend libvirt
# (inner-placement.sh), and a placement='auto' domain answered by numaplace
# through the numad stand-in. Labels libvirt and vm.
here=$(cd "$(dirname "$0")" && pwd)
# A numaplace built without libvirt (-DNP_LIBVIRT=OFF, no libvirt-dev) has
# nothing to test there: skip before booting anything.
if "$1/numaplace" create --libvirt /nonexistent.xml 2>&1 | grep -q "built without libvirt"; then
    echo "host-placement: SKIP: numaplace built without libvirt" >&2
    exit 77
fi
# vhost-net for a domain's NIC: the modules of the kernel the host boots
kernel=$(ls /boot/vmlinuz-*-amd64 2>/dev/null | sort -V | tail -n 1)
mods=""
for m in drivers/net/tun drivers/net/tap drivers/vhost/vhost_iotlb drivers/vhost/vhost \
    drivers/vhost/vhost_net; do
    f=/lib/modules/${kernel#/boot/vmlinuz-}/kernel/$m.ko
    [ -f "$f" ] && mods="$mods -f $f"
done
# shellcheck disable=SC2086
exec "$here/libvirt-host.sh" -n 2 -c 2 -m 1536 -t 900 -b "$1" -f "$here/../../contrib/libvirt/numad" \
    $mods "$here/inner-placement.sh"
