bench mixes --host builtin:small-2n --host fixtures/linux/kvmhost-2n --mix ../bench/mixes/01-steady-fill.json --policy xl42 --csv
