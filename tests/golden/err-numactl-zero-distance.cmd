topology --from fixtures/malformed/numactl-zero-distance.txt
