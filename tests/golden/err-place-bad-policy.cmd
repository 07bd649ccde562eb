place --from builtin:small-2n --policy best --vm name=x,vcpus=2,memory=1G
