ksm --root fixtures/linux/kvmhost-2n
