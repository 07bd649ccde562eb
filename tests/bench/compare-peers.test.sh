#!/bin/sh
# bench/mixes/compare-peers.py on a hand-made CSV whose verdicts are known: a
# trade-off against xl42, numad and (32 nodes) least-loaded, a pair equal to xapi,
# a dominated pair only in counts below one vCPU per CPU in a colocate mix, a
# dominated pair in distance on an 8-node host (least-loaded not compared there),
# a row with empty figures left out; with the added group criteria the colocate pair
# against xl42 (colocate distance 0.000 against 1.000) is a trade-off, and a
# difference within 0.005 (0.004 against numad) counts for nothing. Expected output:
# compare-peers.out. The last block: every policy against every other.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp)
trap 'rm -f "$out"' EXIT
python3 "$here/../../bench/mixes/compare-peers.py" "$here/compare-peers.csv" -v >"$out"
diff -u "$here/compare-peers.out" "$out"
