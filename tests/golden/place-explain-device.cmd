place --from builtin:epyc-8n --explain --vm name=ml,vcpus=16,memory=48G,dev=0000:61:00.0
