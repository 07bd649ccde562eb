place --from builtin:small-2n --vm name=x,vcpus=2,memory=1G,dev=0000:99:00.0
