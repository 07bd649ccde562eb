bench mixes --host builtin:2s-2n --mix ../bench/mixes/05-colocate.json --mix ../bench/mixes/07-devices.json --policy numaplace --policy xapi --json
