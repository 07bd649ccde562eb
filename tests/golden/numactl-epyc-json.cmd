topology --from fixtures/numactl/epyc-2s-nps4-8n.txt --json
