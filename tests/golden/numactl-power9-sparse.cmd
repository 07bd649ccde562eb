topology --from fixtures/numactl/power9-ac922-sparse.txt
