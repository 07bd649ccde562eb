#!/bin/bash
# bench/replay-speed.sh - how long `numaplace place --scenario` takes to
# replay N arrivals and departures on an 8-node host (issue 11: linear in
# events, 100,000 in under 10 s).
#
#   bench/replay-speed.sh [NUMAPLACE] [EVENTS...]
#
# For each EVENTS count (default 1000 10000 100000) and each mix it writes a
# scenario of that many events on builtin:epyc-8n (8 nodes, 503 GiB) and
# times its replay:
#   churn  guests of 1-8 vCPUs and 1-8 GiB arrive; once 200 are on the host
#          each arrival is followed by the departure of the oldest (a steady
#          state, as a cloud host churns; the host cannot hold them all, so
#          some arrivals are refused, as in a full cloud);
#   grow   arrivals only, 1-8 vCPUs and 16-47 MiB each: the host fills up to
#          about 16,000 guests, later arrivals are refused (the state a
#          decision reads keeps growing: what made replays quadratic).
# Output: events, mix, policy, wall-clock seconds, CPU seconds (user +
# system: the machine may be shared, CPU time is the figure that counts)
# and CPU microseconds per event. The generator is awk with a fixed seed:
# the same files every run. NP_REPLAY_POLICIES="numaplace xl42 ..." times
# other policies, NP_REPLAY_MIXES="churn" one mix.
set -eu
bin=${1:-build/numaplace}
[ $# -gt 0 ] && shift
counts=${*:-1000 10000 100000}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
printf '%-8s %-6s %-13s %-9s %-9s %s\n' events mix policy wall_s cpu_s cpu_us/event
for n in $counts; do
    for mix in ${NP_REPLAY_MIXES:-churn grow}; do
        f=$dir/replay-$mix-$n.json
        awk -v n="$n" -v mix="$mix" 'BEGIN {
            srand(11);
            print "{\"schema\": \"numaplace.scenario/1\", \"host\": \"builtin:epyc-8n\", \"events\": [";
            ev = 0; arrived = 0; departed = 0; steady = 200;
            while (ev < n) {
                v = 1 + int(rand() * 8);
                m = mix == "grow" ? 16 + int(rand() * 32) "M" : 1 + int(rand() * 8) "G";
                printf "%s{\"arrive\": {\"name\": \"g%d\", \"vcpus\": %d, \"memory\": \"%s\"}}\n",
                       (ev ? "," : ""), arrived, v, m;
                arrived++; ev++;
                if (mix == "churn" && arrived - departed > steady && ev < n) {
                    printf ",{\"depart\": \"g%d\"}\n", departed;
                    departed++; ev++;
                }
            }
            print "]}";
        }' >"$f"
        for policy in ${NP_REPLAY_POLICIES:-numaplace}; do
            TIMEFORMAT='%R %U %S'
            rc=0
            { time "$bin" place --scenario "$f" --policy "$policy" >/dev/null 2>"$dir/err" || rc=$?; } 2>"$dir/time"
            if [ "$rc" -ne 0 ] && [ "$rc" -ne 1 ]; then
                echo "replay of $n events failed (exit $rc):" >&2
                cat "$dir/err" >&2
                exit 1
            fi
            read -r wall user sys <"$dir/time"
            awk -v n="$n" -v mx="$mix" -v p="$policy" -v w="$wall" -v u="$user" -v s="$sys" \
                'BEGIN { c = u + s; printf "%-8d %-6s %-13s %-9.2f %-9.2f %.1f\n", n, mx, p, w, c, c * 1e6 / n }'
        done
    done
done
