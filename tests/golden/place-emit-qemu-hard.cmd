place --from builtin:2s-2n --emit qemu --vm name=q,vcpus=4,memory=8G,affinity=hard
