place --from builtin:big-32n --policy xl42 --json --vm name=tiny,vcpus=2,memory=8M
