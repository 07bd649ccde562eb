ksm --root fixtures/linux/kvmhost-2n --merge-across-nodes 0
