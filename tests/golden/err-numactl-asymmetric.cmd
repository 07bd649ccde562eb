topology --from fixtures/malformed/numactl-asymmetric.txt
