topology --from fixtures/malformed/numactl-truncated.txt
