advise -w 6:1024 --root fixtures/linux/kvmhost-2n --json
