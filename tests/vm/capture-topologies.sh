#!/usr/bin/env bash
# capture-topologies.sh - regenerate tests/fixtures/vm/<shape>/: what a real
# Linux kernel reports about emulated multi-node hosts.
#
# Each shape boots one numa-vm.sh guest (QEMU TCG, Debian's kernel) and saves
# from inside it, for the topology readers' round-trip tests (numactl text
# and hwloc XML of the same host must read to the same model):
#   numactl-hardware.txt   `numactl --hardware`
#   hwloc.xml              `lstopo-no-graphics --disallowed --of xml` (with
#                          the nodes and CPUs the capturing process's cpuset
#                          leaves out: cpuset.mems never holds a memory-less
#                          node, and without --disallowed hwloc drops it)
#   sys/devices/system/node/{online,possible,has_cpu,has_memory,has_normal_memory}
#   sys/devices/system/node/nodeN/{cpulist,cpumap,distance,meminfo}
#   pci.txt                one line per PCI device: address, class, vendor,
#                          device, numa_node, local_cpulist
#   README.md              how this capture was made
# The files travel out of the guest as a base64 tar stream on the guest's
# output port, so no share or kernel module is needed.
#
# usage: capture-topologies.sh [-o FIXTURES_DIR] [-D CACHE_DIR] [SHAPE...]
# Shapes: see `shape_args` below; default: all of them.
# shellcheck disable=SC2054 # commas inside option values are meant
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out_root=$(cd "$here/.." && pwd)/fixtures/vm
cache_opt=()
while getopts ':o:D:h' opt; do
    case $opt in
    o) out_root=$OPTARG ;;
    D) cache_opt=(-D "$OPTARG") ;;
    h) sed -n '2,20s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) echo "usage: $0 [-o FIXTURES_DIR] [-D CACHE_DIR] [SHAPE...]" >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))

# Guest time-outs: a capture boots in 3-12 s on an idle 2-core host; allow
# for another TCG guest sharing the cores.
readonly CAPTURE_TIMEOUT_S=300

# 8 nodes in two halves of two pairs: 12 within a pair, 22 within a half,
# 32 to the same position in the other half, 42 otherwise.
dist8() {
    local i j x row rows=()
    for ((i = 0; i < 8; i++)); do
        row=""
        for ((j = 0; j < 8; j++)); do
            x=$((i ^ j))
            if [ $x = 0 ]; then v=10
            elif [ $x = 1 ]; then v=12
            elif [ $x -lt 4 ]; then v=22
            elif [ $x = 4 ]; then v=32
            else v=42
            fi
            row+="${row:+,}$v"
        done
        rows+=("$row")
    done
    local IFS=';'
    printf '%s\n' "${rows[*]}"
}

# shape_args SHAPE: the numa-vm.sh options (one per line) and a description.
shape_args() {
    case $1 in
    2n)
        desc="2 nodes x 2 CPUs x 256 MiB, distances 10/21 (pc)"
        args=(-n 2 -c 2 -m 256 -d '10,21;21,10')
        ;;
    4n)
        desc="4 nodes x 2 CPUs x 256 MiB, two pairs: 16 within a pair, 32 across (pc)"
        args=(-n 4 -c 2 -m 256 -d '10,16,32,32;16,10,32,32;32,32,10,16;32,32,16,10')
        ;;
    8n)
        desc="8 nodes x 1 CPU x 128 MiB (node 0: 256 MiB), distances 12/22/32/42 by XOR of node ids (pc)"
        args=(-n 8 -c 1 -m 256,128,128,128,128,128,128,128 -d "$(dist8)")
        ;;
    3n-cpuless)
        desc="3 nodes, node 2 without CPUs (2,2,0 CPUs; 256 MiB each), distances 10/20/40 (pc)"
        args=(-n 3 -c 2,2,0 -m 256 -d '10,20,40;20,10,40;40,40,10')
        ;;
    4n-memless)
        desc="4 nodes x 1 CPU, node 3 without memory (256,256,256,0 MiB), distances 10/16/32 (pc)"
        args=(-n 4 -c 1 -m 256,256,256,0 -d '10,16,32,32;16,10,32,32;32,32,10,16;32,32,16,10')
        ;;
    q35-pci)
        desc="q35, 2 nodes x 2 CPUs x 256 MiB, distances 10/21; e1000e and NVMe behind a pxb-pcie on node 1, virtio-net on the main root bus"
        args=(-M q35 -n 2 -c 2 -m 256 -d '10,21;21,10' -p 1:e1000e -p 1:nvme
            -q '-device pcie-root-port,id=rpmain,bus=pcie.0,chassis=99 -device virtio-net-pci,bus=rpmain')
        ;;
    *) return 1 ;;
    esac
}
all_shapes="2n 4n 8n 3n-cpuless 4n-memless q35-pci"
[ $# -gt 0 ] || set -- $all_shapes
for s in "$@"; do shape_args "$s" || { echo "$0: unknown shape '$s' (known: $all_shapes)" >&2; exit 2; }; done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/t"
# The guest side. lstopo-no-graphics is called by path: busybox applets
# would shadow same-named programs (none here, but keep the habit).
cat >"$tmp/t/capture.sh" <<'EOF'
set -e
o=/tmp/capture
nd=/sys/devices/system/node
mkdir -p "$o$nd"
numactl --hardware >"$o/numactl-hardware.txt"
/usr/local/bin/lstopo-no-graphics --disallowed --of xml >"$o/hwloc.xml"
for f in online possible has_cpu has_memory has_normal_memory; do
    cat "$nd/$f" >"$o$nd/$f"
done
for n in "$nd"/node[0-9]*; do
    mkdir -p "$o$n"
    for f in cpulist cpumap distance meminfo; do cat "$n/$f" >"$o$n/$f"; done
done
for d in /sys/bus/pci/devices/*; do
    [ -e "$d" ] || continue
    echo "${d##*/} class=$(cat "$d/class") vendor=$(cat "$d/vendor") device=$(cat "$d/device") numa_node=$(cat "$d/numa_node") local_cpulist=$(cat "$d/local_cpulist")"
done >"$o/pci.txt"
uname -r >"$o/kernel-release.txt"
cd "$o" && tar cf - . | base64
EOF

kernel=$(ls -1 /boot/vmlinuz-* 2>/dev/null | sort -V | tail -n 1 || true)
[ -n "$kernel" ] || { echo "$0: no /boot/vmlinuz-* (install linux-image-amd64)" >&2; exit 1; }
ver() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo unknown; }

for shape in "$@"; do
    shape_args "$shape"
    dest=$out_root/$shape
    work=$tmp/work-$shape
    echo "== $shape: $desc" >&2
    t0=$(date +%s)
    "$here/numa-vm.sh" "${cache_opt[@]}" -o "$work" -t $CAPTURE_TIMEOUT_S "${args[@]}" \
        -b lstopo-no-graphics -f "$tmp/t" 'sh ./capture.sh' >"$tmp/$shape.b64"
    t1=$(date +%s)
    rm -rf "$dest.new"
    mkdir -p "$dest.new"
    base64 -d <"$tmp/$shape.b64" | tar xf - -C "$dest.new" --no-same-owner --no-same-permissions
    [ -s "$dest.new/numactl-hardware.txt" ] && [ -s "$dest.new/hwloc.xml" ] ||
        { echo "$0: $shape: capture incomplete" >&2; exit 1; }
    # The QEMU command line with this run's temporary paths made generic.
    qcmd=$(sed -e "s|$work|\$WORK|g" -e "s|[^ ]*/kernel/vmlinux-|\$CACHE/kernel/vmlinux-|g" "$work/qemu.cmd")
    shown=""
    for a in "${args[@]}"; do
        case $a in *[!A-Za-z0-9_.,:/=-]*) shown+=" '$a'" ;; *) shown+=" $a" ;; esac
    done
    {
        echo "# $shape: $desc"
        echo
        echo "Real captures from Debian's Linux kernel on emulated NUMA hardware (QEMU TCG),"
        echo "made by \`tests/vm/capture-topologies.sh $shape\` on $(date -u '+%Y-%m-%d %H:%M UTC')."
        echo
        echo "| what | value |"
        echo "| --- | --- |"
        echo "| guest kernel | $(cat "$dest.new/kernel-release.txt") (\`$kernel\`, package linux-image-amd64 $(ver linux-image-amd64)) |"
        echo "| QEMU | $(qemu-system-x86_64 --version | head -n 1) |"
        echo "| numactl | $(ver numactl) |"
        echo "| hwloc (lstopo-no-graphics) | $(ver hwloc-nox) |"
        echo "| busybox | $(ver busybox-static) |"
        echo "| capture wall time | $((t1 - t0)) s |"
        echo
        echo "Runner command (the guest runs \`capture.sh\`, written by capture-topologies.sh):"
        echo
        echo '```'
        echo "tests/vm/numa-vm.sh -t $CAPTURE_TIMEOUT_S$shown -b lstopo-no-graphics -f \$TESTDIR 'sh ./capture.sh'"
        echo '```'
        echo
        echo "QEMU command line it ran (\$WORK: the run's work directory, \$CACHE: numa-vm's cache):"
        echo
        echo '```'
        printf '%s\n' "$qcmd"
        echo '```'
        echo
        echo "Files: \`numactl-hardware.txt\` (numactl --hardware), \`hwloc.xml\`"
        echo "(lstopo-no-graphics --disallowed --of xml), \`sys/devices/system/node/...\` (copies of the"
        echo "sysfs files), \`pci.txt\` (every PCI device: class, ids, numa_node, local_cpulist),"
        echo "\`kernel-release.txt\` (uname -r). Memory sizes and free counts are those of this boot."
    } >"$dest.new/README.md"
    rm -rf "$dest"
    mv "$dest.new" "$dest"
    echo "== $shape: saved in $dest ($((t1 - t0)) s)" >&2
done
