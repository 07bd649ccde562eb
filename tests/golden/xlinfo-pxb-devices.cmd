topology --from fixtures/xl-info/qemu-2n-pxb-devices.txt
