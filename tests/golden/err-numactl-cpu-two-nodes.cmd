topology --from fixtures/malformed/numactl-cpu-two-nodes.txt
