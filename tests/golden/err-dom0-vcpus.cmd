dom0 --from builtin:small-2n --vcpus 0
