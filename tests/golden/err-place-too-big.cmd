place --from builtin:small-2n --vm name=x,vcpus=2,memory=100G
