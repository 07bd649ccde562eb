place --from builtin:cxl-4n --json --vm name=tier,vcpus=8,memory=200G,cpuless-memory=yes
