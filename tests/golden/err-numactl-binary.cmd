topology --from fixtures/malformed/numactl-binary.txt
