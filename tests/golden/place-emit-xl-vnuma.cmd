place --from builtin:epyc-8n --emit xl --vm name=wide,vcpus=40,memory=150G,vnuma=auto
