bench mixes --host fixtures/numactl/opteron6272-2s-4n.txt --mix ../bench/mixes/09-overcommit.json --policy numaplace --policy xl42 --csv --trace -
