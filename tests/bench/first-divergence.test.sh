#!/bin/sh
# bench/mixes/first-divergence.py on rows of the default `bench mixes` run on builtin:2s-2n
# (main cd85b47): numaplace is dominated by xapi in 03-big-wide (its decision better at the
# first arrival where they part, arrival 15), by xl42 and xapi in 05-colocate (worse at
# arrival 3: it joins its colocate group), by xl42 in 11-cpuless (equal figures on the other
# node, arrival 10); 08-mixed-sizes is a trade-off and is not replayed; a pair whose mix file
# does not exist is counted apart. Then --select farther --peer xl42: the pairs where xl42
# ends more local (08-mixed-sizes, a trade-off, and the absent mix). The replays are real: a change to what numaplace decides
# on these can change the expected output (first-divergence.out).
# usage: first-divergence.test.sh NUMAPLACE_BINARY
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp)
trap 'rm -f "$out"' EXIT
python3 "$here/../../bench/mixes/first-divergence.py" "$here/first-divergence.csv" \
    --mixdir "$here/../../bench/mixes" --numaplace "$1" -v >"$out"
python3 "$here/../../bench/mixes/first-divergence.py" "$here/first-divergence.csv" \
    --mixdir "$here/../../bench/mixes" --numaplace "$1" --select farther --peer xl42 -v >>"$out"
diff -u "$here/first-divergence.out" "$out"
