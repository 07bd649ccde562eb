#!/bin/sh
# xen-host.sh - a multi-node Xen test host: boots Debian's Xen 4.17 under
# QEMU TCG with an emulated NUMA topology, runs one script inside dom0 and
# returns that script's exit status, all within a bounded time.
#
#   xen-host.sh [-n NODES] [-c CPUS_PER_NODE] [-m MIB_PER_NODE] [-D SRC:DST:DIST ...]
#               [-d DOM0_XEN_ARGS] [-t SECONDS] [-b BUILD_DIR] [-f FILE]... [-l LOG]
#               [-q EXTRA_QEMU_ARGS] SCRIPT
#
# SCRIPT runs in dom0 as /np/run.sh with /np/numaplace (from BUILD_DIR) and
# every -f FILE beside it under /np/, PATH holding Xen's tools first. What it
# prints appears on this script's stdout. Exit status: SCRIPT's status; 77
# when the host lacks what the boot needs (the caller reports SKIP); 124 when
# the time runs out; 125 when the boot or the dom0 build failed.
#
# The dom0 root file system is built once, from the same Debian mirror apt
# uses, into $NP_XEN_CACHE (default: BUILD_DIR/xen-cache, or
# ~/.cache/numaplace-xen without -b): debootstrap minbase + xen-utils-4.17 +
# busybox (about 90 s), packed as an uncompressed cpio (it unpacks in about
# 3 s in dom0; the gzip one takes about 10 s). Each run appends a small
# second cpio with /np/. Timings, pitfalls and the facts behind every option
# below: docs/xen.md.
#
# Needs: root (debootstrap, chroot), qemu-system-x86_64, /boot/xen-4.17-amd64.gz
# (xen-hypervisor-4.17-amd64), /boot/vmlinuz-* (linux-image-amd64),
# debootstrap, cpio.
set -eu

nodes=2 cpus=2 mib=1024 dists="" timeout_s=300 build="" log="" extra="" qemu_extra=""
# dom0 holds the initramfs twice while unpacking it (about 100 MB of root
# plus 35 MB of numaplace's libraries, ICU among them): 512 MiB fails with
# "Initramfs unpacking failed: write error"; 768 MiB works. 2 vCPUs keep it usable.
dom0_args="dom0_mem=768M,max:768M dom0_max_vcpus=2"
while getopts n:c:m:D:d:t:b:f:l:q: opt; do
    case $opt in
    n) nodes=$OPTARG ;;
    c) cpus=$OPTARG ;;
    m) mib=$OPTARG ;;
    D) dists="$dists $OPTARG" ;;
    d) dom0_args=$OPTARG ;;
    t) timeout_s=$OPTARG ;;
    b) build=$OPTARG ;;
    f) extra="$extra $OPTARG" ;;
    l) log=$OPTARG ;;
    q) qemu_extra=$OPTARG ;;
    *) echo "usage: see the head of $0" >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
[ $# -eq 1 ] || { echo "xen-host.sh: give one SCRIPT to run in dom0" >&2; exit 2; }
script=$1

skip() { echo "xen-host.sh: SKIP: $*" >&2; exit 77; }
die() { echo "xen-host.sh: $*" >&2; exit 125; }

[ "$(id -u)" = 0 ] || skip "needs root (debootstrap, chroot)"
command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 missing (qemu-system-x86)"
command -v debootstrap >/dev/null || skip "debootstrap missing"
command -v cpio >/dev/null || skip "cpio missing"
xen_gz=/boot/xen-4.17-amd64.gz
[ -r "$xen_gz" ] || skip "$xen_gz missing (xen-hypervisor-4.17-amd64)"
kernel=$(ls /boot/vmlinuz-*-amd64 2>/dev/null | sort -V | tail -n 1)
[ -n "$kernel" ] || skip "no /boot/vmlinuz-*-amd64 (linux-image-amd64)"
kver=${kernel#/boot/vmlinuz-}
[ -d "/lib/modules/$kver/kernel/drivers/xen" ] || skip "no xen modules for $kver"

cache=${NP_XEN_CACHE:-}
if [ -z "$cache" ]; then
    if [ -n "$build" ]; then cache=$build/xen-cache; else cache=$HOME/.cache/numaplace-xen; fi
fi
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)

# ---- the dom0 root file system (once) -------------------------------------
mirror() {
    m=$(sed -n 's/^URIs: *\([^ ]*\).*/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null |
        grep -v security | head -n 1)
    [ -n "$m" ] || m=$(awk '$1 == "deb" && $2 !~ /security/ { print $2; exit }' \
        /etc/apt/sources.list 2>/dev/null)
    echo "${m:-http://deb.debian.org/debian}"
}

build_rootfs() {
    root=$cache/rootfs
    [ -e "$root/.np-packages-done" ] || install_rootfs
    # Strip what dom0 never runs: the uncompressed cpio must unpack into
    # dom0's 512 MiB (a 165 MB one fails with "Initramfs unpacking failed:
    # write error"); stripped it is about 100 MB.
    rm -rf "$root"/usr/share/doc "$root"/usr/share/man "$root"/usr/share/locale \
        "$root"/usr/share/info "$root"/usr/share/zoneinfo "$root"/var/lib/apt/lists/* \
        "$root"/var/cache/apt/* "$root"/usr/lib/python3* "$root"/usr/bin/python3* \
        "$root"/usr/lib/udev/hwdb.d "$root"/usr/lib/udev/hwdb.bin \
        "$root"/usr/lib/x86_64-linux-gnu/gconv "$root"/usr/bin/perl "$root"/usr/bin/perl5* \
        "$root"/usr/lib/x86_64-linux-gnu/perl-base "$root"/usr/share/perl5
    # Back-ends for guests' disks (blkback, loop for file images) and
    # network interfaces (netback, a bridge), so configs with disk= and
    # vif= build as they would on a real dom0.
    for d in drivers/block/xen-blkback drivers/block/loop.ko drivers/net/xen-netback \
        net/bridge/bridge.ko net/llc net/802/stp.ko; do
        [ -e "/lib/modules/$kver/kernel/$d" ] || continue
        mkdir -p "$root/lib/modules/$kver/kernel/$(dirname "$d")"
        cp -a "/lib/modules/$kver/kernel/$d" "$root/lib/modules/$kver/kernel/$(dirname "$d")/"
    done
    chroot "$root" depmod "$kver"
    write_init "$root"
    build_guest_initrd "$root/guest/initrd.gz"
    (cd "$root" && find . | cpio -o -H newc --quiet) >"$cache/dom0.cpio.$$" ||
        die "packing the dom0 cpio failed"
    mv "$cache/dom0.cpio.$$" "$cache/dom0.cpio"
}

install_rootfs() {
    rm -rf "$root"
    echo "xen-host.sh: building the dom0 root file system in $root (once)" >&2
    debootstrap --variant=minbase bookworm "$root" "$(mirror)" >"$cache/debootstrap.log" 2>&1 ||
        die "debootstrap failed, see $cache/debootstrap.log"
    # numaplace's own run-time libraries come with the binary (see below).
    chroot "$root" sh -c 'DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
        --no-install-recommends xen-utils-4.17 busybox kmod procps iproute2' \
        >"$cache/apt.log" 2>&1 || die "apt-get in the dom0 root failed, see $cache/apt.log"
    chroot "$root" apt-get clean
    mkdir -p "$root/lib/modules/$kver/kernel/drivers"
    cp -a "/lib/modules/$kver/kernel/drivers/xen" "$root/lib/modules/$kver/kernel/drivers/"
    cp "/lib/modules/$kver/modules.order" "/lib/modules/$kver/modules.builtin" \
        "/lib/modules/$kver/modules.builtin.modinfo" "$root/lib/modules/$kver/" 2>/dev/null || true
    chroot "$root" depmod "$kver"
    mkdir -p "$root/guest"
    cp "$kernel" "$root/guest/vmlinuz"
    touch "$root/.np-packages-done"
}

# The guests' initramfs (/guest/initrd.gz in dom0, with /guest/vmlinuz):
# static busybox; init prints the NUMA view on the guest console (kept by
# xenconsoled in /var/log/xen/console/guest-NAME.log) and idles.
build_guest_initrd() {
    g=$cache/guest-initrd
    rm -rf "$g"
    mkdir -p "$g/bin" "$g/proc" "$g/sys" "$g/dev"
    cp /bin/busybox "$g/bin/busybox"
    cat >"$g/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
echo "GUEST: online nodes: $(cat /sys/devices/system/node/online 2>/dev/null)"
for n in /sys/devices/system/node/node*; do
    [ -d "$n" ] || continue
    echo "GUEST: ${n##*/} cpulist=$(cat "$n/cpulist") $(grep MemTotal "$n/meminfo" | tr -s ' ')"
done
dmesg | grep -E "SRAT|NUMA" | sed 's/^/GUEST-DMESG: /'
echo "GUEST: ready"
while :; do sleep 3600; done
EOF
    chmod 755 "$g/init"
    (cd "$g" && find . | cpio -o -H newc --quiet | gzip -1) >"$1"
}

write_init() {
    cat >"$1/np-init" <<'EOF'
#!/bin/sh
# dom0's init: no init system, only what xl needs (docs/xen.md).
export PATH=/usr/lib/xen-4.17/bin:/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
# devtmpfs lacks what udev would add: /dev/stdin is what the hotplug
# scripts' lock (locking.sh, stat -L /dev/stdin) needs, else `block add`
# loops until libxl kills it ("unable to add disk devices")
ln -sf /proc/self/fd /dev/fd; ln -sf /proc/self/fd/0 /dev/stdin
ln -sf /proc/self/fd/1 /dev/stdout; ln -sf /proc/self/fd/2 /dev/stderr
mkdir -p /dev/pts; mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /run; mount -t tmpfs tmpfs /tmp
mkdir -p /run/xen /run/xenstored /var/log/xen/console /var/lib/xen
for m in xenfs xen-evtchn xen-gntdev xen-gntalloc xen-privcmd; do modprobe $m; done
for m in xen-blkback xen-netback loop bridge; do modprobe $m 2>/dev/null; done
mount -t xenfs xenfs /proc/xen
xenstored --pid-file /run/xenstored.pid
i=0
while ! xenstore-exists / 2>/dev/null; do
    sleep 0.2; i=$((i + 1)); [ $i -gt 150 ] && break
done
xen-init-dom0 >/dev/null 2>&1
xenconsoled --log=guest
echo "NP-XEN-READY"
echo "NP-XEN-OUT-BEGIN"
# Every line of the script gets "NP|": the serial log also carries what Xen
# itself prints (debug-key dumps, warnings), which is not the script's output.
{ cd /np && LD_LIBRARY_PATH=/np/lib sh /np/run.sh 2>&1; echo $? >/tmp/np-rc; } | sed 's/^/NP|/'
rc=$(cat /tmp/np-rc)
echo "NP-XEN-OUT-END rc=$rc"
busybox poweroff -f
EOF
    chmod 755 "$1/np-init"
}

# Raise when the packing or dom0's init changes: cached cpios are repacked.
rootfs_version=7
[ -s "$cache/dom0.cpio" ] && [ "$(cat "$cache/dom0.version" 2>/dev/null)" = $rootfs_version ] ||
    { build_rootfs && echo $rootfs_version >"$cache/dom0.version"; }
[ -s "$cache/xen" ] || { gzip -dc "$xen_gz" >"$cache/xen.tmp" && mv "$cache/xen.tmp" "$cache/xen"; }

# ---- the per-run part: /np with the script, numaplace and its libraries ----
run=$(mktemp -d "${TMPDIR:-/tmp}/np-xen.XXXXXX")
qpid=""
cleanup() {
    [ -n "$qpid" ] && kill "$qpid" 2>/dev/null
    rm -rf "$run"
}
trap cleanup EXIT INT TERM
mkdir -p "$run/np/lib"
cp "$script" "$run/np/run.sh"
for f in $extra; do cp "$f" "$run/np/"; done
if [ -n "$build" ] && [ -x "$build/numaplace" ]; then
    cp "$build/numaplace" "$run/np/numaplace"
    # the vNUMA preload library `numaplace create` gives xl (found beside it)
    [ -f "$build/numaplace-xl-vnuma-fix.so" ] && cp "$build/numaplace-xl-vnuma-fix.so" "$run/np/"
    # Libraries the dom0 root lacks (hwloc, jansson, libxml2, libmicrohttpd,
    # ...) travel along, for the command and for the daemon a test may bring.
    for bin in "$build/numaplace" "$build/numaplaced"; do
        [ -x "$bin" ] || continue
        ldd "$bin" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }'
    done | sort -u | while read -r lib; do
        [ -e "$cache/rootfs$lib" ] || cp -L "$lib" "$run/np/lib/"
    done
fi
(cd "$run" && find np | cpio -o -H newc --quiet) >"$run/np.cpio"
cat "$cache/dom0.cpio" "$run/np.cpio" >"$run/initrd.cpio"

# ---- the emulated host ------------------------------------------------------
numa=""
i=0
while [ $i -lt "$nodes" ]; do
    first=$((i * cpus)) last=$((i * cpus + cpus - 1))
    numa="$numa -object memory-backend-ram,id=m$i,size=${mib}M"
    numa="$numa -numa node,nodeid=$i,cpus=$first-$last,memdev=m$i"
    i=$((i + 1))
done
# Default distances: 10 local, 20 to a neighbour node, 30 further (a ring-less
# chain like a 4-socket board); -D SRC:DST:DIST overrides one pair (both ways).
i=0
while [ $i -lt "$nodes" ]; do
    j=$((i + 1))
    while [ $j -lt "$nodes" ]; do
        d=30
        [ $((j - i)) -eq 1 ] && d=20
        for o in $dists; do
            case $o in "$i:$j:"* | "$j:$i:"*) d=${o##*:} ;; esac
        done
        numa="$numa -numa dist,src=$i,dst=$j,val=$d"
        j=$((j + 1))
    done
    i=$((i + 1))
done
[ "$nodes" -gt 1 ] || numa=""

[ -n "$log" ] || log=$run/serial.log
: >"$log"
start=$(date +%s)
# -cpu max without SMAP (dom0 crashes under QEMU 7.2 TCG) and RDTSCP (PVH
# guests loop on an SVM instruction-length mismatch): docs/xen.md.
# shellcheck disable=SC2086
timeout "$timeout_s" qemu-system-x86_64 -accel tcg -cpu max,-smap,-rdtscp -machine pc \
    -smp $((nodes * cpus)),sockets="$nodes",cores="$cpus",threads=1 -m $((nodes * mib))M $numa $qemu_extra \
    -display none -vga none -nic none -monitor none -serial "file:$log" -no-reboot \
    -kernel "$cache/xen" \
    -append "console=com1 com1=115200,8n1 $dom0_args loglvl=all guest_loglvl=all no-bootscrub conring_size=1m" \
    -initrd "$kernel console=hvc0 earlyprintk=xen loglevel=4 rdinit=/np-init,$run/initrd.cpio" &
qpid=$!
set +e
wait "$qpid"
qrc=$?
qpid=""
set -e
end=$(date +%s)
tr -d '\r' <"$log" | sed -n '/^NP-XEN-OUT-BEGIN/,/^NP-XEN-OUT-END/p' | sed -n 's/^NP|//p'
rc=$(tr -d '\r' <"$log" | sed -n 's/^NP-XEN-OUT-END rc=\([0-9]*\).*/\1/p' | tail -n 1)
echo "xen-host.sh: ${nodes}x${cpus} CPUs, ${mib} MiB/node: QEMU exit $qrc after $((end - start)) s" >&2
if [ -z "$rc" ]; then
    if [ "$qrc" = 124 ]; then # the log goes with $run: its end is all that stays
        echo "xen-host.sh: timed out after ${timeout_s} s; last lines of the serial log:" >&2
        tr -d '\r' <"$log" | tail -n 20 >&2
        exit 124
    fi
    grep -q "Initramfs unpacking failed" "$log" &&
        echo "xen-host.sh: dom0 ran out of memory unpacking its initramfs: raise dom0_mem (-d)" >&2
    echo "xen-host.sh: dom0 did not finish the script; last lines of $log:" >&2
    tr -d '\r' <"$log" | tail -n 20 >&2
    exit 125
fi
exit "$rc"
