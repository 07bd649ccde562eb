#!/usr/bin/env bash
# numa-vm.sh - run one shell command inside a Linux guest with N emulated
# NUMA nodes, print its output and exit with its status.
#
# This is the project's multi-node test host: the build machines have a
# single NUMA node, so every test that needs real kernel NUMA behaviour
# (sysfs topology, libnuma, mbind, migrate_pages, IO locality) boots the
# Debian kernel of the build machine under QEMU's TCG emulator with per-node
# CPUs and memory, an optional SLIT distance matrix and optional PCI devices
# behind a NUMA-local expander bridge. The guest's root file system is a small
# uncompressed newc initramfs: static busybox, the numactl tools, the programs
# given with -b, the shared libraries `ldd` names for every ELF file added,
# and the test directories given with -f (in /test, the command's working
# directory). The initramfs is the concatenation of cached pieces, one per
# file, named by a hash of the file's content and guest path, so a repeated
# run only re-packs the command and the test files. The xz-compressed bzImage
# is unpacked once to an ELF vmlinux (also cached), which QEMU boots through
# its PVH entry: decompressing under TCG would cost seconds per boot.
#
# The command's output travels on the second serial port (ttyS1) to a file
# that is streamed to stdout while the guest runs; kernel messages stay on
# ttyS0 (console.log in the work dir, printed by -v). After the command, the
# guest writes a marker with its exit status and powers off.
#
# Exit status: the guest command's; 124 when -t expired; 125 when the guest
# ended without reporting a status (kernel panic, QEMU error); 126 when the
# run could not be set up (bad option, missing kernel or QEMU).
#
# Works as root and as an ordinary user (TCG needs no privileges), with no
# network. Needs: qemu-system-x86, a kernel image (linux-image-amd64),
# busybox-static, cpio, xz-utils, coreutils; kmod for -s; numactl and numad
# for the default tools.
set -euo pipefail
umask 022

readonly ME=numa-vm
# Node 0 holds the kernel, its page tables and the initramfs (rootfs lives in
# RAM); below this the guest runs out of memory before /init.
readonly NODE0_MIN_MIB=64
# QEMU's limit is 128 nodes; beyond 64 a TCG boot takes minutes anyway.
readonly MAX_NODES=64
# ACPI SLIT: 10 is local; Linux rejects a table with a remote distance <= 10;
# 255 means unreachable.
readonly DIST_LOCAL=10 DIST_REMOTE_MIN=11 DIST_MAX=255
# Root ports under one expander bridge, so that bus numbers of consecutive
# expanders (bus_nr = PXB_BUS_STRIDE * k) never overlap.
readonly PXB_BUS_STRIDE=16
# Bump when the layout of a cached piece changes, to invalidate old pieces.
readonly PIECE_FORMAT=numa-vm-piece-1
readonly DEFAULT_TIMEOUT_S=300
# Debian's kernels use HZ=250; read from /boot/config-KVER when present.
readonly DEFAULT_KERNEL_HZ=250
readonly DEFAULT_TOOLS="numactl numastat migratepages memhog numad"
# Cached pieces and kernels not used for this long are deleted (each rebuild
# of a program under test leaves a piece behind).
readonly CACHE_MAX_AGE_DAYS=14

usage() {
    cat <<'EOF'
usage: numa-vm.sh [options] [--] COMMAND [ARGS...]
Boot a guest with N NUMA nodes, run COMMAND (a shell command line, run by
busybox sh in /test), print its output, exit with its status.
  -n NODES        number of nodes (default 2)
  -c CPUS|c0,c1.. CPUs per node, one value for all or one per node (default 1);
                  0 makes a CPU-less node
  -m MIB|m0,m1..  memory per node in MiB (default 256); 0 makes a memory-less
                  node; node 0 needs at least 64
  -d 'r0;r1;..'   distance matrix rows, values separated by commas
                  (e.g. '10,20;20,10'); default: the kernel's 10/20
  -p NODE:DEV     PCI device DEV (a QEMU -device string, e.g. e1000e or nvme)
                  behind an expander bridge on NODE (pxb-pcie + root port on
                  q35, pxb on pc); repeatable
  -b PROG         add program PROG (path or name on PATH) to /usr/local/bin,
                  with its libraries; repeatable
  -f DIR          copy DIR's contents into /test; repeatable
  -N              do not add numactl, numastat, migratepages, memhog, numad
  -s HOSTDIR      share HOSTDIR read-write at /mnt/host (virtio 9p)
  -M MACHINE      QEMU machine: pc (default) or q35
  -a ARGS         extra kernel command line arguments
  -q ARGS         extra QEMU arguments (split at white space)
  -k KERNEL       kernel bzImage (default: newest /boot/vmlinuz-*)
  -B              boot the bzImage as it is (no PVH vmlinux; slower)
  -S              no lpj= on the kernel command line (each vCPU then
                  calibrates its delay loop: ~1 s per vCPU on a busy host)
  -A ACCEL        QEMU accelerator (default tcg)
  -C CPU          QEMU CPU model (default max)
  -t SECS         kill the guest after SECS seconds, exit 124 (default 300)
  -o DIR          work directory (kept); default: a temporary one, removed
  -D DIR          cache directory (default $NUMA_VM_CACHE, else build/numa-vm
                  in the source tree, else ~/.cache/numa-vm, else
                  $TMPDIR/numa-vm-UID)
  -v              print the QEMU command line and the guest console
Exit status: COMMAND's; 124 timeout; 125 no status from the guest; 126 set-up
error.
EOF
}

die() {
    printf '%s: %s\n' "$ME" "$*" >&2
    exit 126
}
warn() { printf '%s: warning: %s\n' "$ME" "$*" >&2; }
say() { [ "$verbose" = 0 ] || printf '%s: %s\n' "$ME" "$*" >&2; }

is_uint() { [[ $1 =~ ^[0-9]+$ ]]; }

# expand_list NAME VALUE COUNT WHAT: set array NAME to COUNT integers from a
# single value (repeated) or a comma list of exactly COUNT values.
# shellcheck disable=SC2034 # out_ref is a nameref: assigning sets the caller's array
expand_list() {
    local -n out_ref=$1
    local value=$2 count=$3 what=$4 v
    local -a parts
    IFS=, read -ra parts <<<"$value"
    if [ "${#parts[@]}" = 1 ]; then
        parts=()
        for ((v = 0; v < count; v++)); do parts+=("$value"); done
    elif [ "${#parts[@]}" != "$count" ]; then
        die "-$what '$value': expected 1 or $count values (one per node)"
    fi
    for v in "${parts[@]}"; do
        is_uint "$v" || die "-$what '$value': '$v' is not a non-negative integer"
    done
    out_ref=("${parts[@]}")
}

# ---- options ---------------------------------------------------------------
nodes=2 cpus_arg=1 mem_arg=256 dist_arg="" machine=pc kargs="" qargs=""
kernel="" bzimage_boot=0 accel=tcg cpu_model=max timeout_s=$DEFAULT_TIMEOUT_S
workdir="" cache="${NUMA_VM_CACHE:-}" verbose=0 numa_tools=1 share="" preset_lpj=1
progs=() dirs=() pci=() node_cpus=() node_mib=()
while getopts ':n:c:m:d:p:b:f:Ns:M:a:q:k:BSA:C:t:o:D:vh' opt; do
    case $opt in
    n) nodes=$OPTARG ;;
    c) cpus_arg=$OPTARG ;;
    m) mem_arg=$OPTARG ;;
    d) dist_arg=$OPTARG ;;
    p) pci+=("$OPTARG") ;;
    b) progs+=("$OPTARG") ;;
    f) dirs+=("$OPTARG") ;;
    N) numa_tools=0 ;;
    s) share=$OPTARG ;;
    M) machine=$OPTARG ;;
    a) kargs=$OPTARG ;;
    q) qargs=$OPTARG ;;
    k) kernel=$OPTARG ;;
    B) bzimage_boot=1 ;;
    S) preset_lpj=0 ;;
    A) accel=$OPTARG ;;
    C) cpu_model=$OPTARG ;;
    t) timeout_s=$OPTARG ;;
    o) workdir=$OPTARG ;;
    D) cache=$OPTARG ;;
    v) verbose=1 ;;
    h) usage; exit 0 ;;
    :) usage >&2; die "option -$OPTARG needs a value" ;;
    *) usage >&2; die "unknown option -$OPTARG" ;;
    esac
done
shift $((OPTIND - 1))
[ $# -gt 0 ] || { usage >&2; die "no command given"; }
command_line="$*"

is_uint "$nodes" && [ "$nodes" -ge 1 ] && [ "$nodes" -le $MAX_NODES ] ||
    die "-n '$nodes': expected a node count from 1 to $MAX_NODES"
is_uint "$timeout_s" && [ "$timeout_s" -ge 1 ] || die "-t '$timeout_s': expected seconds >= 1"
expand_list node_cpus "$cpus_arg" "$nodes" c
expand_list node_mib "$mem_arg" "$nodes" m
[ "${node_mib[0]}" -ge $NODE0_MIN_MIB ] ||
    die "-m: node 0 has ${node_mib[0]} MiB; it holds the kernel and the initramfs, give it at least $NODE0_MIN_MIB"
total_cpus=0 total_mib=0
for ((i = 0; i < nodes; i++)); do
    total_cpus=$((total_cpus + node_cpus[i]))
    total_mib=$((total_mib + node_mib[i]))
done
[ "$total_cpus" -ge 1 ] || die "-c: the guest needs at least one CPU"

# Distance rows: N rows of N values, 10 on the diagonal, 11..255 elsewhere.
dist=()
if [ -n "$dist_arg" ]; then
    IFS=';' read -ra rows <<<"$dist_arg"
    [ "${#rows[@]}" = "$nodes" ] || die "-d '$dist_arg': expected $nodes rows separated by ';'"
    for ((i = 0; i < nodes; i++)); do
        IFS=, read -ra vals <<<"${rows[i]// /}"
        [ "${#vals[@]}" = "$nodes" ] || die "-d: row $i '${rows[i]}': expected $nodes values"
        for ((j = 0; j < nodes; j++)); do
            v=${vals[j]}
            is_uint "$v" || die "-d: row $i: '$v' is not an integer"
            if [ "$i" = "$j" ]; then
                [ "$v" = $DIST_LOCAL ] || die "-d: row $i: local distance must be $DIST_LOCAL, not $v"
            elif [ "$v" -lt $DIST_REMOTE_MIN ] || [ "$v" -gt $DIST_MAX ]; then
                die "-d: row $i: remote distance $v outside $DIST_REMOTE_MIN..$DIST_MAX"
            fi
            dist+=("$v")
        done
    done
fi

case $machine in pc | pc-* | q35) ;; *) die "-M '$machine': expected pc or q35" ;; esac
case $machine in *q35*) is_q35=1 ;; *) is_q35=0 ;; esac

command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 not found (Debian: qemu-system-x86)"
command -v cpio >/dev/null || die "cpio not found (Debian: cpio)"
busybox=$(command -v busybox || true)
[ -n "$busybox" ] || die "busybox not found (Debian: busybox-static)"
busybox=$(readlink -f "$busybox")

if [ -z "$kernel" ]; then
    kernel=$(ls -1 /boot/vmlinuz-* 2>/dev/null | sort -V | tail -n 1 || true)
    [ -n "$kernel" ] || die "no /boot/vmlinuz-* (Debian: linux-image-amd64); or give -k"
fi
[ -r "$kernel" ] || die "kernel '$kernel' is missing or not readable"
kver=$(basename "$kernel")
kver=${kver#vmlinuz-}

# ---- cache and work directories --------------------------------------------
script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ -z "$cache" ]; then
    src_build=$(cd "$script_dir/../.." && pwd)/build
    if mkdir -p "$src_build/numa-vm" 2>/dev/null && [ -w "$src_build/numa-vm" ]; then
        cache=$src_build/numa-vm
    else
        cache=${XDG_CACHE_HOME:-${HOME:-/nonexistent}/.cache}/numa-vm
        mkdir -p "$cache" 2>/dev/null && [ -w "$cache" ] || cache=${TMPDIR:-/tmp}/numa-vm-$(id -u)
    fi
fi
mkdir -p "$cache/pieces" "$cache/kernel" || die "cannot create cache directory '$cache'"
cache=$(cd "$cache" && pwd)

keep_work=0
if [ -n "$workdir" ]; then
    mkdir -p "$workdir" || die "cannot create work directory '$workdir'"
    work=$(cd "$workdir" && pwd)
    keep_work=1
else
    mkdir -p "$cache/runs"
    work=$(mktemp -d "$cache/runs/run.XXXXXX")
fi

qemu_pid=""
cleanup() {
    if [ -n "$qemu_pid" ] && kill -0 "$qemu_pid" 2>/dev/null; then
        kill -TERM "$qemu_pid" 2>/dev/null || true
        wait "$qemu_pid" 2>/dev/null || true
    fi
    rm -rf "$work"/stage.* "$work"/*.tmp
    [ "$keep_work" = 1 ] || rm -rf "$work"
}
trap cleanup EXIT
trap 'cleanup; trap - EXIT; exit 130' INT
trap 'cleanup; trap - EXIT; exit 143' TERM

sha256_of() { # sha256_of FILE -> hex digest on stdout
    local s
    s=$(sha256sum <"$1") || die "cannot read '$1'"
    printf '%s\n' "${s%% *}"
}
sha256_text() { local s; s=$(printf '%s' "$1" | sha256sum); printf '%s\n' "${s%% *}"; }

# ---- kernel: bzImage -> vmlinux (ELF with a PVH entry), cached --------------
# The payload of a bzImage starts at (setup_sects + 1) * 512 + payload_offset
# (boot protocol >= 2.08, header fields at 0x1f1, 0x248, 0x24c); the kernel
# build appends the uncompressed size as 4 little-endian bytes.
le_u32() { od -An -tu4 -j "$2" -N 4 "$1" | tr -d ' '; }
unpack_vmlinux() { # unpack_vmlinux BZIMAGE OUT
    local bz=$1 out=$2 setup_sects pay_off pay_len start magic tmp size want
    setup_sects=$(od -An -tu1 -j $((0x1f1)) -N 1 "$bz" | tr -d ' ')
    [ "$setup_sects" != 0 ] || setup_sects=4
    [ "$(od -An -c -j $((0x202)) -N 4 "$bz" | tr -d ' ')" = HdrS ] || return 1
    pay_off=$(le_u32 "$bz" $((0x248)))
    pay_len=$(le_u32 "$bz" $((0x24c)))
    start=$(((setup_sects + 1) * 512 + pay_off))
    magic=$(tail -c +$((start + 1)) "$bz" | head -c 6 | od -An -tx1 | tr -d ' \n')
    tmp=$out.$$.tmp
    case $magic in
    fd377a585a00) tail -c +$((start + 1)) "$bz" | head -c "$pay_len" | xz -dc --single-stream >"$tmp" ;;
    1f8b*) tail -c +$((start + 1)) "$bz" | head -c "$pay_len" | gzip -dc >"$tmp" 2>/dev/null || true ;;
    28b52ffd*) tail -c +$((start + 1)) "$bz" | head -c $((pay_len - 4)) | zstd -dcq >"$tmp" ;;
    *) rm -f "$tmp"; return 1 ;;
    esac
    want=$(tail -c +$((start + pay_len - 3)) "$bz" | head -c 4 | od -An -tu4 | tr -d ' ')
    size=$(stat -c %s "$tmp")
    [ "$size" = "$want" ] && [ "$(head -c 4 "$tmp" | od -An -tx1 | tr -d ' \n')" = 7f454c46 ] ||
        { rm -f "$tmp"; return 1; }
    mv -f "$tmp" "$out"
}
# XEN_ELFNOTE_PHYS32_ENTRY (18) marks the PVH entry point QEMU needs.
has_pvh_note() {
    command -v readelf >/dev/null || return 0 # cannot check; QEMU will tell
    LC_ALL=C readelf -n "$1" 2>/dev/null | grep -q 'Xen.*(0x00000012)'
}

boot_kernel=$kernel
if [ "$bzimage_boot" = 0 ]; then
    ksum=$(sha256_of "$kernel")
    vmlinux=$cache/kernel/vmlinux-$kver-${ksum:0:16}
    if [ ! -s "$vmlinux" ]; then
        say "unpacking $kernel to $vmlinux"
        unpack_vmlinux "$kernel" "$vmlinux" || { warn "cannot unpack $kernel; booting the bzImage"; vmlinux=""; }
    fi
    if [ -n "$vmlinux" ] && has_pvh_note "$vmlinux"; then
        boot_kernel=$vmlinux
    elif [ -n "$vmlinux" ]; then
        warn "$vmlinux has no PVH entry; booting the bzImage"
    fi
fi

# ---- initramfs pieces ------------------------------------------------------
declare -A piece_seen=() # guest path -> host source
pieces=()

# make_piece PIECE STAGE: write the cpio archive of STAGE's tree to PIECE
# atomically (runs in parallel share the cache).
make_piece() {
    local piece=$1 stage=$2 tmp
    tmp=$(mktemp "$cache/pieces/.new.XXXXXX")
    (cd "$stage" && find . -mindepth 1 | LC_ALL=C sort |
        cpio -o -H newc -R 0:0 --reproducible --quiet) >"$tmp" || { rm -f "$tmp"; die "cpio failed for $piece"; }
    chmod 0644 "$tmp"
    mv -f "$tmp" "$piece"
}

# add_file GUEST_PATH HOST_FILE MODE: one cached piece holding the file (and
# its parent directories, which the kernel's unpacker does not create).
add_file() {
    local gpath=$1 src=$2 mode=$3 key piece stage
    if [ -n "${piece_seen[$gpath]:-}" ]; then
        [ "${piece_seen[$gpath]}" = "$src" ] ||
            [ "$(sha256_of "${piece_seen[$gpath]}")" = "$(sha256_of "$src")" ] ||
            die "$gpath would come from both ${piece_seen[$gpath]} and $src"
        return 0
    fi
    piece_seen[$gpath]=$src
    key=$(sha256_text "$PIECE_FORMAT $gpath $mode $(sha256_of "$src")")
    piece=$cache/pieces/$key.cpio
    if [ ! -s "$piece" ]; then
        stage=$(mktemp -d "$work/stage.XXXXXX")
        install -D -m "$mode" "$src" "$stage$gpath" || die "cannot copy $src"
        make_piece "$piece" "$stage"
        rm -rf "$stage"
    fi
    pieces+=("$piece")
}

is_elf() { [ "$(head -c 4 "$1" 2>/dev/null | od -An -tx1 | tr -d ' \n')" = 7f454c46 ]; }

# elf_libs FILE: the absolute paths of the libraries `ldd` names for FILE
# (including the program loader), one a line; nothing for static files.
elf_libs() {
    local out line p
    if ! out=$(LC_ALL=C ldd "$1" 2>&1); then
        case $out in *"not a dynamic executable"*) return 0 ;; esac
        die "ldd $1 failed: $out"
    fi
    while IFS= read -r line; do
        line=${line#"${line%%[![:space:]]*}"}
        case $line in
        *"=> not found"*) die "$1 needs ${line%% *}, which ldd cannot find" ;;
        *"=> /"*) p=${line#*=> } && printf '%s\n' "${p%% (*}" ;;
        /*) printf '%s\n' "${line%% (*}" ;;
        esac
    done <<<"$out"
}

# add_elf_libs FILE: pieces for every library FILE needs, at the same path.
add_elf_libs() {
    local lib
    is_elf "$1" || return 0
    while IFS= read -r lib; do
        [ -n "$lib" ] || continue
        add_file "$lib" "$(readlink -f "$lib")" 0755
    done < <(elf_libs "$1")
}

# The /init of the guest. It starts with no open file descriptors (the
# archive has no /dev/console node, so it can be built without root).
init_script() {
    cat <<'EOF'
#!/bin/sh
# /init of a numa-vm guest: mount the kernel file systems, run the command in
# /etc/numa-vm/cmd with its output on ttyS1, report its status, power off.
PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin
HOME=/root
export PATH HOME
mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t tmpfs tmpfs /run
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null
read -r up _ </proc/uptime
echo "numa-vm: /init at uptime ${up}s"
if [ -s /etc/numa-vm/modules ]; then
    while read -r mod; do
        insmod "$mod" || echo "numa-vm: insmod $mod failed"
    done </etc/numa-vm/modules
fi
if [ -e /etc/numa-vm/share ]; then
    mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 hostshare /mnt/host ||
        echo "numa-vm: mounting the 9p share failed"
fi
stty -F /dev/ttyS1 raw -echo
cd /test
sh /etc/numa-vm/cmd </dev/null >/dev/ttyS1 2>&1
rc=$?
# Closing ttyS1 after this echo waits until the UART has sent everything.
echo "$(cat /etc/numa-vm/marker) $rc@@" >/dev/ttyS1
[ -e /etc/numa-vm/share ] && { sync; umount /mnt/host; }
read -r up _ </proc/uptime
echo "numa-vm: command exit $rc at uptime ${up}s"
poweroff -f
EOF
}

# Base piece: directories, busybox with every applet link, /init.
applets=$("$busybox" --list-full) || die "$busybox --list-full failed"
init_text=$(init_script)
base_key=$(sha256_text "$PIECE_FORMAT base $(sha256_of "$busybox") $init_text $applets")
base_piece=$cache/pieces/$base_key.cpio
if [ ! -s "$base_piece" ]; then
    stage=$(mktemp -d "$work/stage.XXXXXX")
    mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,usr/local/bin,lib,lib64,etc/numa-vm,dev,proc,sys,run,tmp,root,test,mnt/host,var/log}
    ln -s ../run "$stage/var/run"
    chmod 1777 "$stage/tmp"
    install -m 0755 "$busybox" "$stage/bin/busybox"
    while IFS= read -r a; do
        [ -n "$a" ] && [ ! -e "$stage/$a" ] && [ ! -L "$stage/$a" ] || continue
        mkdir -p "$stage/$(dirname "$a")"
        ln -s /bin/busybox "$stage/$a"
    done <<<"$applets"
    printf '%s\n' "$init_text" >"$stage/init"
    chmod 0755 "$stage/init"
    make_piece "$base_piece" "$stage"
    rm -rf "$stage"
fi
pieces+=("$base_piece")
add_elf_libs "$busybox"
piece_seen[/bin/busybox]=$busybox

declare -A applet_names=()
while IFS= read -r a; do applet_names[${a##*/}]=1; done <<<"$applets"

# add_prog PROG REQUIRED: PROG (a path or a name on PATH) in /usr/local/bin.
add_prog() {
    local p=$1 required=$2 path name
    case $p in
    */*) path=$p ;;
    *) path=$(command -v "$p" 2>/dev/null || true) ;;
    esac
    case $path in /* | */*) ;; *) path="" ;; esac
    if [ -z "$path" ] || [ ! -f "$path" ]; then
        [ "$required" = 1 ] && die "-b $p: no such program"
        warn "$p not found on this machine; the guest will not have it"
        return 0
    fi
    name=${p##*/}
    [ -z "${applet_names[$name]:-}" ] ||
        warn "'$name' is also a busybox applet, which the guest's sh runs first: call /usr/local/bin/$name"
    add_file "/usr/local/bin/$name" "$(readlink -f "$path")" 0755
    add_elf_libs "$path"
}
if [ "$numa_tools" = 1 ]; then
    for t in $DEFAULT_TOOLS; do add_prog "$t" 0; done
fi
for p in "${progs[@]}"; do add_prog "$p" 1; done

# 9p share: the Debian kernel has virtio-pci and 9p only as modules.
modules=()
if [ -n "$share" ]; then
    [ -d "$share" ] || die "-s '$share': not a directory"
    command -v modprobe >/dev/null || die "-s needs modprobe (Debian: kmod)"
    # -a: without it, the names after the first are taken as module parameters.
    deps=$(modprobe -a --show-depends -S "$kver" virtio_pci 9pnet_virtio 9p) ||
        die "modprobe cannot resolve the 9p modules for $kver"
    while read -r word path _; do
        [ "$word" = insmod ] || continue
        case $path in
        *.ko) gmod=$path src=$path ;;
        *.ko.xz | *.ko.gz | *.ko.zst)
            gmod=${path%.*}
            src=$work/stage.mod.${gmod##*/}
            case $path in
            *.xz) xz -dc "$path" >"$src" ;;
            *.gz) gzip -dc "$path" >"$src" ;;
            *.zst) zstd -dcq "$path" >"$src" ;;
            esac || die "cannot decompress $path"
            ;;
        *) die "unexpected module path '$path'" ;;
        esac
        case " ${modules[*]-} " in *" $gmod "*) continue ;; esac
        add_file "$gmod" "$src" 0644
        modules+=("$gmod")
    done <<<"$deps"
fi

# Per-run piece: the command, the marker, the share flag and /test.
token=$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')
marker="@@NUMA-VM-EXIT-$token"
stage=$(mktemp -d "$work/stage.XXXXXX")
mkdir -p "$stage/etc/numa-vm" "$stage/test"
printf '%s\n' "$command_line" >"$stage/etc/numa-vm/cmd"
printf '%s\n' "$marker" >"$stage/etc/numa-vm/marker"
[ ${#modules[@]} = 0 ] || printf '%s\n' "${modules[@]}" >"$stage/etc/numa-vm/modules"
[ -z "$share" ] || : >"$stage/etc/numa-vm/share"
for d in "${dirs[@]}"; do
    [ -d "$d" ] || die "-f '$d': not a directory"
    # No hard links: inode numbers restart in every archive of the image.
    cp -R -P --preserve=mode,timestamps "$d/." "$stage/test/" || die "cannot copy $d"
done
while IFS= read -r -d '' f; do
    add_elf_libs "$f"
done < <(find "$stage/test" -type f -print0)
make_piece "$work/run.cpio" "$stage"
rm -rf "$stage"
pieces+=("$work/run.cpio")
cat "${pieces[@]}" >"$work/initramfs.cpio"
# Mark what this run used, then drop what no run used for a while.
touch "${pieces[@]}" "$boot_kernel" 2>/dev/null || true
find "$cache/pieces" "$cache/kernel" -type f -mtime +$CACHE_MAX_AGE_DAYS -delete 2>/dev/null || true
say "initramfs: ${#pieces[@]} pieces, $(($(stat -c %s "$work/initramfs.cpio") / 1024)) KiB"

# ---- QEMU command line -----------------------------------------------------
qemu=(qemu-system-x86_64 -nodefaults -no-user-config -display none -monitor none
    -machine "$machine" -accel "$accel" -cpu "$cpu_model")
uniform=1
for c in "${node_cpus[@]}"; do [ "$c" = "${node_cpus[0]}" ] || uniform=0; done
if [ "$uniform" = 1 ]; then
    # One socket per node: hwloc then shows one package per node.
    qemu+=(-smp "$total_cpus,sockets=$nodes,cores=${node_cpus[0]},threads=1")
else
    qemu+=(-smp "$total_cpus,sockets=$total_cpus,cores=1,threads=1")
fi
qemu+=(-m "${total_mib}M")
for ((i = 0; i < nodes; i++)); do
    if [ "${node_mib[i]}" -gt 0 ]; then
        qemu+=(-object "memory-backend-ram,id=mem$i,size=${node_mib[i]}M"
            -numa "node,nodeid=$i,memdev=mem$i")
    else
        qemu+=(-numa "node,nodeid=$i")
    fi
done
socket=0
for ((i = 0; i < nodes; i++)); do
    if [ "$uniform" = 1 ]; then
        qemu+=(-numa "cpu,node-id=$i,socket-id=$i")
    else
        for ((j = 0; j < node_cpus[i]; j++)); do
            qemu+=(-numa "cpu,node-id=$i,socket-id=$socket")
            socket=$((socket + 1))
        done
    fi
done
if [ ${#dist[@]} -gt 0 ]; then
    for ((i = 0; i < nodes; i++)); do
        for ((j = 0; j < nodes; j++)); do
            [ "$i" = "$j" ] || qemu+=(-numa "dist,src=$i,dst=$j,val=${dist[i * nodes + j]}")
        done
    done
fi

# PCI devices behind one expander bridge per node.
declare -A pxb_of_node=() ports_of_node=()
pxb_count=0 chassis=0 ndrive=0
for spec in "${pci[@]}"; do
    node=${spec%%:*}
    dev=${spec#*:}
    [ "$node" != "$spec" ] && is_uint "$node" && [ "$node" -lt "$nodes" ] && [ -n "$dev" ] ||
        die "-p '$spec': expected NODE:DEVICE with NODE below $nodes"
    if [ -z "${pxb_of_node[$node]:-}" ]; then
        pxb_count=$((pxb_count + 1))
        pxb_of_node[$node]=pxb$node
        ports_of_node[$node]=0
        if [ "$is_q35" = 1 ]; then
            qemu+=(-device "pxb-pcie,id=pxb$node,bus_nr=$((PXB_BUS_STRIDE * pxb_count)),numa_node=$node,bus=pcie.0")
        else
            qemu+=(-device "pxb,id=pxb$node,bus_nr=$((PXB_BUS_STRIDE * pxb_count)),numa_node=$node,bus=pci.0")
        fi
    fi
    port=$((ports_of_node[$node] + 1))
    ports_of_node[$node]=$port
    [ "$port" -lt $PXB_BUS_STRIDE ] || die "-p: at most $((PXB_BUS_STRIDE - 1)) devices per node"
    case $dev in
    nvme | nvme,*)
        # NVMe needs a drive; a null block device is enough to be enumerated.
        case $dev in *drive=*) ;; *)
            ndrive=$((ndrive + 1))
            qemu+=(-drive "file=null-co://,if=none,id=pcidrive$ndrive,format=raw")
            dev="$dev,drive=pcidrive$ndrive,serial=numavm$ndrive"
            ;;
        esac
        ;;
    esac
    if [ "$is_q35" = 1 ]; then
        chassis=$((chassis + 1))
        qemu+=(-device "pcie-root-port,id=rp${node}_$port,bus=pxb$node,chassis=$chassis"
            -device "$dev,bus=rp${node}_$port")
    else
        qemu+=(-device "$dev,bus=pxb$node,addr=$port")
    fi
done
if [ -n "$share" ]; then
    qemu+=(-virtfs "local,path=$(cd "$share" && pwd),mount_tag=hostshare,security_model=none,id=hostshare")
fi
# lpj: the kernel finds the TSCs of TCG vCPUs unsynchronised and then lets
# every secondary CPU calibrate its delay loop by counting timer ticks, which
# on a loaded 2-core host took 1-2 s per vCPU (8 nodes x 2 CPUs: 25-35 s
# instead of 6-9 s). Presetting loops-per-jiffy skips that; it only scales
# udelay(). TCG's TSC runs at the host's rate, so lpj = host TSC Hz / HZ.
lpj=""
if [ "$preset_lpj" = 1 ]; then
    khz=$(awk -F: '/^cpu MHz/ { gsub(/ /, "", $2); split($2, p, "."); print p[1] * 1000 + substr(p[2] "000", 1, 3); exit }' /proc/cpuinfo 2>/dev/null || true)
    hz=$(sed -n 's/^CONFIG_HZ=\([0-9]*\)$/\1/p' "/boot/config-$kver" 2>/dev/null || true)
    hz=${hz:-$DEFAULT_KERNEL_HZ}
    if is_uint "${khz:-x}" && [ "$khz" -gt 0 ] && [ "$hz" -gt 0 ]; then
        lpj=$((khz * 1000 / hz))
    fi
fi
# no_timer_check: on a loaded host the kernel's early check that the IO-APIC
# timer ticks can see too few ticks of a TCG vCPU and panic ("IO-APIC + timer
# doesn't work!"; seen once in a CI rehearsal at load average 11); the timer
# works, the check only needs the vCPU to run in time, so skip it.
append="console=ttyS0 quiet panic=-1 no_timer_check rdinit=/init${lpj:+ lpj=$lpj}${kargs:+ $kargs}"
qemu+=(-kernel "$boot_kernel" -initrd "$work/initramfs.cpio" -append "$append"
    -serial "file:$work/console.log" -serial "file:$work/out.log" -no-reboot)
if [ -n "$qargs" ]; then
    read -ra extra <<<"$qargs"
    qemu+=("${extra[@]}")
fi
# qemu.cmd: the command line, quoted for a shell only where needed.
for w in "${qemu[@]}"; do
    if [[ $w =~ ^[A-Za-z0-9_./:=,@+%-]+$ ]]; then
        printf '%s ' "$w"
    else
        printf "'%s' " "${w//\'/\'\\\'\'}"
    fi
done >"$work/qemu.cmd"
echo >>"$work/qemu.cmd"
say "qemu: $(cat "$work/qemu.cmd")"

# ---- run -------------------------------------------------------------------
: >"$work/out.log"
: >"$work/console.log"
t0=$(date +%s%N)
timeout -k 5 "$timeout_s" "${qemu[@]}" </dev/null >"$work/qemu.log" 2>&1 &
qemu_pid=$!
# Stream ttyS1 while the guest runs; tail stops after QEMU has exited and
# the rest of the file is read.
tail -n +1 -s 0.2 --pid="$qemu_pid" -f "$work/out.log" 2>/dev/null |
    sed -u -e 's/\r$//' -e "/^$marker -\{0,1\}[0-9]*@@\$/d" -e "s/$marker -\{0,1\}[0-9]*@@\$//" &
stream_pid=$!
qemu_rc=0
wait "$qemu_pid" || qemu_rc=$?
qemu_pid=""
wait "$stream_pid" || true
t1=$(date +%s%N)
wall_ms=$(((t1 - t0) / 1000000))
wall=$(printf '%d.%01d' $((wall_ms / 1000)) $((wall_ms % 1000 / 100)))

if [ "$verbose" = 1 ]; then
    echo "---- $ME: guest console ($work/console.log)" >&2
    tr -d '\r' <"$work/console.log" >&2
    echo "---- $ME: end of console" >&2
fi
boot=$(tr -d '\r' <"$work/console.log" | sed -n 's/^numa-vm: \/init at uptime \([0-9.]*\)s$/\1/p' | head -n 1)
status=$(grep -a -o "$marker -\{0,1\}[0-9]*@@" "$work/out.log" | tail -n 1 | sed 's/.* \(-\{0,1\}[0-9]*\)@@$/\1/' || true)
summary="nodes=$nodes cpus=$cpus_arg mem=$mem_arg"
if [ "$qemu_rc" = 124 ] || [ "$qemu_rc" = 137 ]; then
    echo "$ME: $summary timed out after ${timeout_s}s (wall=${wall}s); last console lines:" >&2
    tail -n 15 "$work/console.log" | tr -d '\r' >&2
    exit 124
fi
if [ -z "$status" ]; then
    echo "$ME: $summary: the guest reported no exit status (QEMU exit $qemu_rc, wall=${wall}s); last lines:" >&2
    tail -n 15 "$work/console.log" | tr -d '\r' >&2
    cat "$work/qemu.log" >&2
    exit 125
fi
[ "$qemu_rc" = 0 ] || warn "QEMU exited with $qemu_rc: $(head -c 500 "$work/qemu.log")"
echo "$ME: $summary exit=$status wall=${wall}s boot=${boot:-?}s" >&2
exit "$status"
