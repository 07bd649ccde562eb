topology --from fixtures/malformed/numactl-4096-nodes.txt
