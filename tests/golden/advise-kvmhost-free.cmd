advise -w 4:20000 --root fixtures/linux/kvmhost-2n
