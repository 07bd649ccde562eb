bench mixes --host fixtures/numactl/opteron6272-2s-4n.txt --mix ../bench/mixes/06-spread.json --policy numaplace --policy oracle-metrics --csv
