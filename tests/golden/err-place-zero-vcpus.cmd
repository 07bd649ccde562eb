place --from builtin:small-2n --vm name=x,vcpus=0,memory=1G
