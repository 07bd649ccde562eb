place --from builtin:cxl-4n --emit qemu --vm name=tier,vcpus=8,memory=200G,cpuless-memory=yes
