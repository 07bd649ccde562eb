place --from builtin:2s-2n --vm name=web,vcpus=4,memory=8G --vm name=db,vcpus=16,memory=96G,maxmem=128G,dev=0000:af:00.0 --vm name=big,vcpus=48,memory=300G
