place --from builtin:small-2n --emit libvirt --vm name=wide,vcpus=1,memory=7G
