#!/bin/sh
# libvirt-host.sh - a multi-node libvirt test host: boots Debian's kernel under
# QEMU TCG with an emulated NUMA topology and a Debian root (debootstrap) that
# runs libvirtd with the QEMU driver, runs one script inside it and returns
# that script's exit status, in a bounded time.
#
#   libvirt-host.sh [-n NODES] [-c CPUS_PER_NODE] [-m MIB_PER_NODE] [-t SECONDS]
#                   [-b BUILD_DIR] [-f FILE]... [-l LOG] SCRIPT
#   libvirt-host.sh -R [-b BUILD_DIR]   builds the root (below) and exits: no boot
#
# SCRIPT runs as /np/run.sh with /np/numaplace, /np/numaplaced (from
# BUILD_DIR) and every -f FILE beside it; libvirtd answers at qemu:///system.
# The domains it starts are QEMU TCG processes inside the guest: they need
# not boot an operating system (memory preallocated on the nodes numatune
# names is what placement and moves are checked on). Exit status: SCRIPT's;
# 77 when this machine lacks what the boot needs; 124 on timeout; 125 when
# the boot or the root build failed.
#
# The root file system is built once into $NP_LIBVIRT_CACHE (default
# BUILD_DIR/libvirt-cache): debootstrap minbase + libvirt-daemon,
# libvirt-daemon-driver-qemu, libvirt-clients, qemu-system-x86, busybox,
# kmod, procps, a libvirt-qemu user (libvirt's QEMU driver looks it up
# before reading qemu.conf); packed as an uncompressed cpio. docs/libvirt.md.
#
# Needs: root (debootstrap, chroot), qemu-system-x86_64, /boot/vmlinuz-*
# (linux-image-amd64), debootstrap, cpio.
set -eu

nodes=2 cpus=2 mib=1536 timeout_s=900 build="" log="" extra="" root_only=0
while getopts n:c:m:t:b:f:l:R opt; do
    case $opt in
    n) nodes=$OPTARG ;;
    c) cpus=$OPTARG ;;
    m) mib=$OPTARG ;;
    t) timeout_s=$OPTARG ;;
    b) build=$OPTARG ;;
    f) extra="$extra $OPTARG" ;;
    l) log=$OPTARG ;;
    R) root_only=1 ;;
    *) echo "usage: see the head of $0" >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
[ $# -eq 1 ] || [ $root_only = 1 ] || { echo "libvirt-host.sh: give one SCRIPT" >&2; exit 2; }
script=${1:-}

skip() { echo "libvirt-host.sh: SKIP: $*" >&2; exit 77; }
die() { echo "libvirt-host.sh: $*" >&2; exit 125; }

[ "$(id -u)" = 0 ] || skip "needs root (debootstrap, chroot)"
command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 missing"
command -v debootstrap >/dev/null || skip "debootstrap missing"
command -v cpio >/dev/null || skip "cpio missing"
kernel=$(ls /boot/vmlinuz-*-amd64 2>/dev/null | sort -V | tail -n 1)
[ -n "$kernel" ] || skip "no /boot/vmlinuz-*-amd64 (linux-image-amd64)"

cache=${NP_LIBVIRT_CACHE:-}
if [ -z "$cache" ]; then
    if [ -n "$build" ]; then cache=$build/libvirt-cache; else cache=$HOME/.cache/numaplace-libvirt; fi
fi
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)
root=$cache/rootfs

mirror() {
    m=$(sed -n 's/^URIs: *\([^ ]*\).*/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null |
        grep -v security | head -n 1)
    [ -n "$m" ] || m=$(awk '$1 == "deb" && $2 !~ /security/ { print $2; exit }' \
        /etc/apt/sources.list 2>/dev/null)
    echo "${m:-http://deb.debian.org/debian}"
}

install_rootfs() {
    rm -rf "$root"
    echo "libvirt-host.sh: building the root file system in $root (once)" >&2
    debootstrap --variant=minbase bookworm "$root" "$(mirror)" >"$cache/debootstrap.log" 2>&1 ||
        die "debootstrap failed, see $cache/debootstrap.log"
    chroot "$root" sh -c 'DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
        --no-install-recommends libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients \
        qemu-system-x86 busybox kmod procps' >"$cache/apt.log" 2>&1 ||
        die "apt-get in the root failed, see $cache/apt.log"
    chroot "$root" apt-get clean
    touch "$root/.np-packages-done"
}

build_rootfs() {
    rm -f "$cache/root.cpio"
    [ -e "$root/.np-packages-done" ] || install_rootfs
    chroot "$root" sh -c 'getent group libvirt-qemu >/dev/null || groupadd -r libvirt-qemu;
        getent passwd libvirt-qemu >/dev/null || useradd -r -g libvirt-qemu -d /var/lib/libvirt \
        -s /usr/sbin/nologin libvirt-qemu' || die "adding libvirt-qemu failed"
    # What the guest never runs: the cpio unpacks into the guest's memory.
    rm -rf "$root"/usr/share/doc "$root"/usr/share/man "$root"/usr/share/locale \
        "$root"/usr/share/info "$root"/usr/share/zoneinfo "$root"/var/lib/apt/lists/* \
        "$root"/var/cache/apt/* "$root"/usr/lib/python3* "$root"/usr/bin/python3* \
        "$root"/usr/lib/udev/hwdb.d "$root"/usr/lib/udev/hwdb.bin "$root"/usr/share/perl5 \
        "$root"/usr/lib/x86_64-linux-gnu/perl-base
    mkdir -p "$root/etc/libvirt"
    # root runs QEMU (no virtlogd, no security driver in this minimal root)
    printf 'user = "root"\ngroup = "root"\nstdio_handler = "file"\nsecurity_driver = "none"\n' \
        >"$root/etc/libvirt/qemu.conf"
    write_init
    (cd "$root" && find . | cpio -o -H newc --quiet) >"$cache/root.cpio.tmp" ||
        die "packing the root cpio failed"
    mv "$cache/root.cpio.tmp" "$cache/root.cpio"
}

write_init() {
    cat >"$root/np-init" <<'EOF'
#!/bin/sh
export PATH=/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
mkdir -p /dev/pts /sys/fs/cgroup; mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /run; mount -t tmpfs tmpfs /tmp
mount -t cgroup2 cgroup2 /sys/fs/cgroup
# libvirt without systemd puts each domain under /machine: cpuset (numatune
# strict, emulatorpin) and cpu need to be delegated below the root.
echo "+cpuset +cpu +memory" >/sys/fs/cgroup/cgroup.subtree_control 2>/dev/null
mkdir -p /run/libvirt /var/log/libvirt /var/lib/libvirt/qemu /var/cache/libvirt /var/run
ip link set lo up 2>/dev/null
libvirtd --daemon --pid-file /run/libvirtd.pid
i=0
while ! virsh -c qemu:///system uri >/dev/null 2>&1; do
    sleep 1; i=$((i + 1)); [ $i -gt 120 ] && break
done
echo "NP-LV-READY after ${i} s"
echo "NP-LV-OUT-BEGIN"
{ cd /np && PATH=/np:$PATH LD_LIBRARY_PATH=/np/lib sh /np/run.sh 2>&1; echo $? >/tmp/np-rc; } | sed 's/^/NP|/'
rc=$(cat /tmp/np-rc)
echo "NP-LV-OUT-END rc=$rc"
busybox poweroff -f
EOF
    chmod 755 "$root/np-init"
}

rootfs_version=1
[ -s "$cache/root.cpio" ] && [ "$(cat "$cache/root.version" 2>/dev/null)" = $rootfs_version ] ||
    { build_rootfs && echo $rootfs_version >"$cache/root.version"; }
[ $root_only = 1 ] && exit 0

run=$(mktemp -d "${TMPDIR:-/tmp}/np-lv.XXXXXX")
qpid=""
cleanup() {
    [ -n "$qpid" ] && kill "$qpid" 2>/dev/null
    rm -rf "$run"
}
trap cleanup EXIT INT TERM
mkdir -p "$run/np/lib"
cp "$script" "$run/np/run.sh"
for f in $extra; do cp "$f" "$run/np/"; done
if [ -n "$build" ]; then
    for b in numaplace numaplaced; do
        [ -x "$build/$b" ] || continue
        cp "$build/$b" "$run/np/$b"
        ldd "$build/$b" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }' | while read -r lib; do
            [ -e "$root$lib" ] || [ -e "$run/np/lib/${lib##*/}" ] || cp -L "$lib" "$run/np/lib/"
        done
    done
fi
(cd "$run" && find np | cpio -o -H newc --quiet) >"$run/np.cpio"
cat "$cache/root.cpio" "$run/np.cpio" >"$run/initrd.cpio"

numa=""
i=0
while [ $i -lt "$nodes" ]; do
    first=$((i * cpus)) last=$((i * cpus + cpus - 1))
    numa="$numa -object memory-backend-ram,id=m$i,size=${mib}M"
    numa="$numa -numa node,nodeid=$i,cpus=$first-$last,memdev=m$i"
    i=$((i + 1))
done
[ "$nodes" -gt 1 ] || numa=""
[ -n "$log" ] || log=$run/serial.log
: >"$log"
start=$(date +%s)
# shellcheck disable=SC2086
timeout "$timeout_s" qemu-system-x86_64 -accel tcg -cpu max -machine pc \
    -smp $((nodes * cpus)),sockets="$nodes",cores="$cpus",threads=1 -m $((nodes * mib))M $numa \
    -display none -vga none -nic none -monitor none -serial "file:$log" -no-reboot \
    -kernel "$kernel" -initrd "$run/initrd.cpio" \
    -append "console=ttyS0 loglevel=4 no_timer_check rdinit=/np-init numa_balancing=disable" &
qpid=$!
set +e
wait "$qpid"
qrc=$?
qpid=""
set -e
end=$(date +%s)
tr -d '\r' <"$log" | sed -n 's/^\(NP-LV-READY.*\)/\1/p' >&2
tr -d '\r' <"$log" | sed -n '/^NP-LV-OUT-BEGIN/,/^NP-LV-OUT-END/p' | sed -n 's/^NP|//p'
rc=$(tr -d '\r' <"$log" | sed -n 's/^NP-LV-OUT-END rc=\([0-9]*\).*/\1/p' | tail -n 1)
echo "libvirt-host.sh: ${nodes}x${cpus} CPUs, ${mib} MiB/node: QEMU exit $qrc after $((end - start)) s" >&2
if [ -z "$rc" ]; then
    echo "libvirt-host.sh: no result (QEMU exit $qrc); last lines of the serial log:" >&2
    tr -d '\r' <"$log" | tail -n 25 >&2
    [ "$qrc" = 124 ] && exit 124
    exit 125
fi
exit "$rc"
