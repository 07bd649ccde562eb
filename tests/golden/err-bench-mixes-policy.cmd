bench mixes --host builtin:small-2n --mix ../bench/mixes/01-steady-fill.json --policy nope
