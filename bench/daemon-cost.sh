#!/usr/bin/env bash
# daemon-cost.sh BUILD_DIR [GUESTS] [ROUNDS] - what numaplaced itself costs
# on a host of GUESTS (default 50) QEMU guests, in CPU time per round and
# as a share of one CPU at the default 2 s period.
#
# The host is a fixture tree (numaplaced --root): a 4-node, 32-CPU /sys and
# a /proc with GUESTS QEMU processes ("qemu-system-x86_64 -name gN"), each
# with 4 vCPU threads ("CPU n/KVM") and a numa_maps of 64 mappings holding
# 4 GiB on its node, and an idle vCPU load. So the figure is the daemon's
# own work per round - listing, reading and parsing every guest's files,
# sensing, np_balance, saving its state - on files the page cache serves;
# it leaves out what the kernel spends producing a real numa_maps (a walk
# of the guest's page tables: docs/results-linux.md measures that, and
# cgroup guests avoid it through memory.numa_stat). The daemon runs ROUNDS
# rounds (default 100) back to back at --period 100ms (the smallest) and
# the CPU time it used (user + system, from bash's `times` of the child)
# is divided by the rounds; at the default period one round every 2 s
# costs that / 2 s of one CPU.
set -eu
build=${1:?usage: daemon-cost.sh BUILD_DIR [GUESTS] [ROUNDS]}
guests=${2:-50}
rounds=${3:-100}
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT

w() { mkdir -p "$(dirname "$root/$1")"; printf '%b' "$2" > "$root/$1"; }
w proc/self/mounts "cgroup2 /sys/fs/cgroup cgroup2 rw 0 0\n"
w sys/devices/system/node/online "0-3\n"
for n in 0 1 2 3; do
    w sys/devices/system/node/node$n/cpulist "$((n * 8))-$((n * 8 + 7))\n"
    w sys/devices/system/node/node$n/meminfo \
        "Node $n MemTotal: 268435456 kB\nNode $n MemFree: 134217728 kB\n"
done
pids=""
for g in $(seq 1 "$guests"); do
    pid=$((1000 + g * 10)) node=$((g % 4))
    pids="$pids --pid $pid"
    w proc/$pid/comm "qemu-system-x86\n"
    printf 'qemu-system-x86_64\0-name\0g%s\0' "$g" > "$root/proc/$pid/cmdline"
    w proc/$pid/cgroup "0::/\n"
    maps=""
    for m in $(seq 0 63); do
        maps="${maps}7f$(printf '%04x' "$m")00000 default anon=16384 dirty=16384 N$node=16384 kernelpagesize_kB=4\n"
    done
    w proc/$pid/numa_maps "$maps"
    for t in 0 1 2 3 4; do
        tid=$((pid + t))
        if [ "$t" = 0 ]; then comm=qemu-system-x86; else comm="CPU $((t - 1))/KVM"; fi
        w proc/$pid/task/$tid/comm "$comm\n"
        # fields 3-21, 17 fillers (22-38), field 39: the CPU it last ran on
        w proc/$pid/task/$tid/stat "$tid ($comm) S 1 1 1 0 -1 4194560 0 0 0 0 5 5 0 0 20 0 5 0 $(printf '1 %.0s' $(seq 17))$((node * 8 + t))\n"
        w proc/$pid/task/$tid/cgroup "0::/\n"
    done
done
state=$root/state.json
sock=$root/np.sock
start=$(date +%s.%N)
TIMEFORMAT='%U %S'
# shellcheck disable=SC2086
{ time "$build/numaplaced" --root "$root" $pids -p 100ms --rounds "$rounds" -s "$sock" \
    -S "$state" -l warning 2> "$root/d.log"; } 2> "$root/time"
end=$(date +%s.%N)
cpu=$(awk '{ printf "%.3f", $1 + $2 }' "$root/time")
per_round_ms=$(awk -v c="$cpu" -v r="$rounds" 'BEGIN { printf "%.2f", c * 1000 / r }')
share=$(awk -v c="$cpu" -v r="$rounds" 'BEGIN { printf "%.2f", c / r / 2.0 * 100 }')
echo "guests=$guests vcpus=$((guests * 4)) rounds=$rounds wall_s=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }')"
echo "daemon_cpu_s=$cpu cpu_per_round_ms=$per_round_ms share_of_one_cpu_at_2s_period=${share}%"
grep -c . "$root/d.log" | sed 's/^/daemon_log_lines=/'
head -3 "$root/d.log"
