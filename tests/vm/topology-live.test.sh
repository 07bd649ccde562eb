#!/usr/bin/env bash
# topology-live.test.sh BUILD_DIR - `numaplace topology --from live --json`
# inside a real kernel with 4 NUMA nodes reads the host as it is.
#
# The guest has 4 nodes x 2 CPUs x 256 MiB and two pairs of nodes (16 within
# a pair, 32 across). numaplace (BUILD_DIR/numaplace, with its libraries) and
# numactl run in the same boot; the JSON must say schema numaplace.topology/1,
# 4 nodes with ids 0-3, CPUs 2k and 2k+1 on node k, and the distance matrix
# given to QEMU. numactl --hardware is checked too, to tell a broken guest
# from a broken reader. The JSON is read with json-flat.awk (no jq).
set -u
build=${1:?usage: topology-live.test.sh BUILD_DIR}
# shellcheck source-path=SCRIPTDIR source=vm-test-lib.sh
. "$(dirname "$0")/vm-test-lib.sh"
vm_require_host

nodes=4
cpus_per_node=2
dist_rows='10,16,32,32;16,10,32,32;32,32,10,16;32,32,16,10'
bin=$build/numaplace
vm_require_built "$bin"

# The guest prints sections between @@ lines; the JSON goes through a file
# so that its exit status can be reported separately.
guest_cmd='/usr/local/bin/numaplace topology --from live --json >/tmp/topo.json 2>/tmp/topo.err
echo "@@numaplace-rc $?"
echo "@@json"; cat /tmp/topo.json
echo "@@stderr"; cat /tmp/topo.err
echo "@@numactl"; numactl --hardware
echo "@@end"'
out=$("$vm_runner" -D "$build/numa-vm" -n $nodes -c $cpus_per_node -m 256 -d "$dist_rows" \
    -b "$bin" "$guest_cmd")
rc=$?
printf '%s\n' "$out" | sed 's/^/guest| /'
vm_check "guest ran to the end (runner exit $rc)" [ "$rc" = 0 ]

section() { # section NAME: the lines between "@@NAME" and the next "@@" line
    printf '%s\n' "$out" | awk -v s="@@$1" '/^@@/ { on = ($0 == s); next } on'
}
numactl_out=$(section numactl)
nrc=$(printf '%s\n' "$out" | sed -n 's/^@@numaplace-rc \([0-9]*\)$/\1/p')
vm_check "numactl --hardware: available: 4 nodes (0-3)" \
    vm_has_line "$numactl_out" "available: $nodes nodes (0-$((nodes - 1)))"
vm_check "numaplace topology exits 0 (got '${nrc:-none}')" [ "${nrc:-x}" = 0 ]

flat=$(section json | awk -f "$vm_here/json-flat.awk")
json_rc=$?
vm_check "numaplace output is one JSON document" [ "$json_rc" = 0 ]
get() { printf '%s\n' "$flat" | awk -v k="$1=" 'index($0, k) == 1 { print substr($0, length(k) + 1); exit }'; }
# expand_cpus LIST: "0-1,4" -> "0 1 4"
expand_cpus() {
    local part lo hi out=""
    local IFS=,
    for part in $1; do
        case $part in
        *-*) lo=${part%-*} hi=${part#*-} ;;
        *) lo=$part hi=$part ;;
        esac
        for ((c = lo; c <= hi; c++)); do out+="${out:+ }$c"; done
    done
    printf '%s\n' "$out"
}
# node_cpus IDX: the CPUs of nodes[IDX], given as a list string or an array.
node_cpus() {
    local s
    s=$(get "nodes.$1.cpus")
    if [ -n "$s" ]; then
        expand_cpus "$s"
    else
        printf '%s\n' "$flat" | sed -n "s/^nodes\.$1\.cpus\.[0-9]*=//p" | tr '\n' ' ' | sed 's/ $//'
    fi
}

schema=$(get schema)
vm_check "schema is numaplace.topology/1 (got '$schema')" [ "$schema" = numaplace.topology/1 ]
count=$(printf '%s\n' "$flat" | grep -c '^nodes\.[0-9]*\.id=')
vm_check "4 nodes (got $count)" [ "$count" = $nodes ]

# idx_of[k]: the position in "nodes" (and in "distances") of the node with id k.
idx_of=()
for ((n = 0; n < count; n++)); do
    id=$(get "nodes.$n.id")
    case $id in [0-9]*) idx_of[id]=$n ;; esac
done
IFS=';' read -ra rows <<<"$dist_rows"
for ((k = 0; k < nodes; k++)); do
    if [ -z "${idx_of[k]:-}" ]; then
        vm_check "node $k present" false
        continue
    fi
    want=""
    for ((c = k * cpus_per_node; c < (k + 1) * cpus_per_node; c++)); do want+="${want:+ }$c"; done
    got=$(node_cpus "${idx_of[k]}")
    vm_check "node $k cpus are '$want' (got '$got')" [ "$got" = "$want" ]
    got_row=""
    for ((j = 0; j < nodes; j++)); do
        got_row+="${got_row:+,}$(get "distances.${idx_of[k]}.${idx_of[j]:-none}")"
    done
    vm_check "distance row $k is ${rows[k]} (got '$got_row')" [ "$got_row" = "${rows[k]}" ]
done

vm_finish
