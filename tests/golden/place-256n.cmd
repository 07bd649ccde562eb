place --from builtin:big-256n --vm name=huge,vcpus=64,memory=600G --vm name=s,vcpus=2,memory=4G,group=g:spread --vm name=t,vcpus=2,memory=4G,group=g:spread
