#!/bin/sh
# inner-placement.sh - runs inside the libvirt test host (libvirt-host.sh) as
# /np/run.sh: issue 14's checks on a real libvirtd with QEMU TCG domains on
# two emulated NUMA nodes.
#   1. numaplace create --libvirt starts three domains of different sizes
#      (preallocated memory, no OS); for each, virsh's vcpupin/numatune/
#      emulatorpin, the QEMU process's numa_maps and numaplace verify agree
#      with the plan;
#   2. a domain whose memory is then moved by hand (numatune widened, then
#      numaplace migrate) is reported by verify (exit 1);
#   3. numaplaced --backend libvirt fixes it: create's node-wide pin is its
#      soft preference, so with CPU room where the memory now is the vCPUs
#      follow the memory there, and the emulator, I/O and vhost threads
#      follow the vCPUs (3c); afterwards virsh (vcpupin, emulatorpin,
#      iothreadinfo, numatune), the threads' affinity and `numaplace
#      status` all name that node, and a `virsh numatune` that re-applies
#      the nodeset leaves the memory there;
#   3b. np-b has a virtio NIC with vhost: its vhost-<pid> thread sits on
#      its CPUs after create;
#   3d. two domains in a spread group (<metadata> hint) land on different
#      nodes;
#   4. with the numad stand-in (contrib/libvirt/numad, passed with -f) at
#      /usr/bin/numad, a domain with placement='auto' gets the nodes
#      `numaplace advise` names.
set -u
np=/np/numaplace
T0=$(date +%s)
section() { echo "== $* (at $(( $(date +%s) - T0 )) s)"; }
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL $*"; fail=$((fail + 1)); }
plans=/tmp/plans
mkdir -p $plans

section "host"
$np topology | head -8
# node os_id -> MiB of a process's memory from numa_maps
node_mib() { # PID NODE
    awk -v n="N$2=" '{for(i=1;i<=NF;i++) if(index($i,n)==1){split($i,a,"=");p+=a[2]}} END{printf "%d\n", p*4/1024}' \
        /proc/$1/numa_maps
}
qpid() { pgrep -f "guest=$1," | head -n 1; }

# vhost-net for np-b's NIC: the modules come with the test (-f)
vhost=no
for m in tun tap vhost_iotlb vhost vhost_net; do
    [ -f /np/$m.ko ] && insmod /np/$m.ko 2>/dev/null
done
[ -c /dev/vhost-net ] && [ -c /dev/net/tun ] && vhost=yes
echo "vhost-net: $vhost"
# libvirt opens vhost-net only for KVM domains (qemuInterfaceOpenVhostNet
# returns early for virtType != kvm), so np-b's NIC is a QEMU tap with
# vhost=on given through <qemu:commandline>; QEMU then needs /dev/net/tun
# and /dev/vhost-net in its cgroup's device list, no private /dev, and
# CAP_NET_ADMIN for the tap (libvirt drops a root QEMU's capabilities).
if [ $vhost = yes ]; then
    printf '%s\n' 'namespaces = []' 'clear_emulator_capabilities = 0' \
        'cgroup_device_acl = [ "/dev/null", "/dev/full", "/dev/zero", "/dev/random", "/dev/urandom", "/dev/ptmx", "/dev/kvm", "/dev/net/tun", "/dev/vhost-net" ]' \
        >>/etc/libvirt/qemu.conf
    kill "$(cat /run/libvirtd.pid)"
    sleep 2
    libvirtd --daemon --pid-file /run/libvirtd.pid
    i=0
    while ! virsh -c qemu:///system uri >/dev/null 2>&1; do
        sleep 1; i=$((i + 1)); [ $i -gt 120 ] && break
    done
    echo "libvirtd restarted with /dev/net/tun and /dev/vhost-net allowed (${i} s)"
fi
vhost_tids() { # QEMU_PID: vhost-PID threads, kernel threads or in the process
    for c in /proc/[0-9]*/comm /proc/$1/task/[0-9]*/comm; do
        [ "$(cat $c 2>/dev/null)" = "vhost-$1" ] && { t=${c%/comm}; echo ${t##*/}; }
    done | sort -u
}
affinity() { sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' /proc/$1/status; }

for spec in a:1:96 b:2:256 c:2:128; do
    name=np-${spec%%:*}; rest=${spec#*:}; vcpus=${rest%%:*}; mem=${rest#*:}
    nic="" ns=""
    if [ $name = np-b ] && [ $vhost = yes ]; then
        ns="xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'"
        nic="<qemu:commandline><qemu:arg value='-netdev'/>
    <qemu:arg value='tap,id=npnet0,ifname=npb0,script=no,downscript=no,vhost=on'/>
    <qemu:arg value='-device'/><qemu:arg value='virtio-net-pci,netdev=npnet0,bus=pci.0,addr=0x1e'/></qemu:commandline>"
    fi
    cat >/tmp/$name.xml <<XML
<domain type='qemu' $ns>
  <name>$name</name>
  <memory unit='MiB'>$mem</memory>
  <vcpu>$vcpus</vcpu>
  <iothreads>1</iothreads>
  <memoryBacking><allocation mode='immediate'/></memoryBacking>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices><emulator>/usr/bin/qemu-system-x86_64</emulator></devices>$nic
</domain>
XML
    section "create $name ($vcpus vCPUs, $mem MiB)"
    t0=$(date +%s)
    $np create --libvirt /tmp/$name.xml --dir $plans >/tmp/$name.out 2>&1
    rc=$?
    cat /tmp/$name.out
    echo "(create took $(( $(date +%s) - t0 )) s)"
    [ $rc = 0 ] && ok || { bad "create $name: exit $rc"; tail -n 5 /var/log/libvirt/qemu/$name.log; }
    grep -q "verify: as planned" /tmp/$name.out && ok || bad "create $name: check"
    virsh vcpupin $name; virsh emulatorpin $name; virsh numatune $name
    home=$(sed -n 's/^node \([0-9]*\) .*/\1/p' $plans/$name.plan | head -n 1)
    p=$(qpid $name)
    echo "$name: pid $p, numa_maps node 0: $(node_mib $p 0) MiB, node 1: $(node_mib $p 1) MiB (plan: node $home)"
    virsh numatune $name | grep -q "numa_nodeset *: $home\$" && ok || bad "$name numatune"
    $np verify --libvirt $name --dir $plans >/tmp/$name.v 2>&1 && ok || { bad "verify $name"; cat /tmp/$name.v; }
    if [ -n "$nic" ]; then
        cpus=$(virsh emulatorpin $name | sed -n 's/^ *\*: *//p')
        vt=$(vhost_tids $p)
        for t in $vt; do echo "$name: vhost thread $t ($(cat /proc/$t/comm)) affinity $(affinity $t), emulatorpin $cpus"; done
        [ -n "$vt" ] && ok || bad "$name: no vhost-$p thread found"
        for t in $vt; do [ "$(affinity $t)" = "$cpus" ] && ok || bad "$name: vhost thread $t on $(affinity $t), not $cpus"; done
    fi
    # Checked: the others wait paused (no TCG time; their vCPUs' measured
    # demand is 0, as an idle domain's would be). np-b runs on.
    [ $name != np-b ] && virsh suspend $name >/dev/null && echo "$name paused"
done

section "moved by hand"
name=np-b
p=$(qpid $name)
home=$(sed -n 's/^node \([0-9]*\) .*/\1/p' $plans/$name.plan | head -n 1)
other=$((1 - home))
virsh numatune $name --nodeset 0-1 --live
$np migrate $p --to $other
echo "$name: node $home $(node_mib $p $home) MiB, node $other $(node_mib $p $other) MiB after the move"
$np verify --libvirt $name --dir $plans >/tmp/moved.v 2>&1
rc=$?
cat /tmp/moved.v
[ $rc = 1 ] && ok || bad "verify after a move by hand: exit $rc, not 1"

section "numaplaced --backend libvirt"
node_cpus() { cat /sys/devices/system/node/node$1/cpulist; }
printf 'backend = libvirt\nperiod = 1s\nmigrate_budget = 256M\n' >/tmp/np.conf
t0=$(date +%s)
/np/numaplaced -c /tmp/np.conf -s /tmp/np.sock -S /tmp/np-state.json --rounds 90 -l info \
    >/tmp/np.log 2>&1 &
npd=$!
# Until np-b is at target after an action on it (status: STATE "ok"), two
# status polls in a row; at most 150 s.
settled=0
while kill -0 $npd 2>/dev/null && [ $(( $(date +%s) - t0 )) -lt 150 ]; do
    sleep 2
    $np status --socket /tmp/np.sock >/tmp/st.txt 2>/tmp/st.err
    st_rc=$?
    # Every poll's line for the guest (or the error), shown if it never settles.
    echo "$(( $(date +%s) - t0 )) s rc=$st_rc: $(grep "^$name " /tmp/st.txt || head -c 200 /tmp/st.err)" >>/tmp/st-history.txt
    [ $st_rc = 0 ] || continue
    if grep -q "guest $name .*\(steer\|migration\)" /tmp/np.log &&
        grep -q "^$name .* ok$" /tmp/st.txt; then
        settled=$((settled + 1))
        [ $settled -ge 2 ] && break
    else
        settled=0
    fi
done
echo "(numaplaced: $name settled after $(( $(date +%s) - t0 )) s: $settled)"
cat /tmp/st.txt
kill $npd 2>/dev/null
wait $npd
grep -E "move|home|steer|numatune|follow" /tmp/np.log | head -30
[ $settled -ge 2 ] && ok || { cat /tmp/st-history.txt; bad "numaplaced did not settle $name within 150 s"; }
h=$(node_mib $p $home); o=$(node_mib $p $other)
echo "$name: node $home $h MiB, node $other $o MiB after numaplaced"
virsh numatune $name; virsh vcpupin $name; virsh emulatorpin $name; virsh iothreadinfo $name
# where numaplaced put it: the node with nine tenths of its memory
if [ "$h" -gt $((o * 9)) ]; then at=$home; elif [ "$o" -gt $((h * 9)) ]; then at=$other; else at=""; fi
[ -n "$at" ] && ok || bad "numaplaced left $name split ($h / $o MiB)"
at=${at:-$home}
cpus=$(node_cpus $at)
virsh numatune $name | grep -q "numa_nodeset *: $at\$" && ok || bad "$name numatune is not node $at"
for v in $(seq 0 $(( $(virsh vcpucount $name --live --active) - 1 ))); do
    pin=$(virsh vcpupin $name --vcpu $v | sed -n "s/^ *$v *//p")
    [ "$pin" = "$cpus" ] && ok || bad "$name vCPU $v pinned to '$pin', not node $at's $cpus"
done
ep=$(virsh emulatorpin $name | sed -n 's/^ *\*: *//p')
[ "$ep" = "$cpus" ] && ok || bad "$name emulator on '$ep', not $cpus"
ip=$(virsh iothreadinfo $name | awk '$1 == "1" {print $2}')
[ "$ip" = "$cpus" ] && ok || bad "$name I/O thread on '$ip', not $cpus"
if [ $vhost = yes ]; then
    for t in $(vhost_tids $p); do
        echo "$name: vhost thread $t affinity $(affinity $t)"
        [ "$(affinity $t)" = "$cpus" ] && ok || bad "$name vhost thread $t on $(affinity $t), not $cpus"
    done
else
    bad "no vhost-net in the test host (modules not given?)"
fi
# The threads followed the guest: they were on node $home's CPUs after create.
if [ "$at" = "$other" ]; then
    echo "$name: vCPUs, emulator, I/O thread and vhost worker followed it from node $home to node $at"
    ok
else
    bad "$name: numaplaced brought the memory back to node $home instead of moving the guest: no thread followed"
fi
# status (the daemon's last reply) lists the helper threads where they are
nh=$(sed -n "/^$name /,/^[^ ]/p" /tmp/st.txt | grep -cE "^    (emulator|io|vhost) .*CPUs $cpus\$")
echo "$name: $nh helper threads on CPUs $cpus in numaplace status"
[ "$nh" -ge 3 ] && ok || bad "status lists $nh helper threads of $name on $cpus (want emulator, io, vhost)"
# What numaplace's mover moved (the rest of the memory, if any, follows it)
moved=$(grep "guest $name " /tmp/np.log | sed -n 's/.*: moved \([0-9]*\) of [0-9]* bytes node.*/\1/p' |
    awk '{s+=$1} END {printf "%d\n", s/1048576}')
echo "$name: numaplace's mover moved $moved MiB; numa_maps: $(node_mib $p $at) MiB on node $at"
nodeset=$(virsh numatune $name | sed -n 's/^numa_nodeset *: //p')
h1=$(node_mib $p $at)
virsh numatune $name --nodeset "$nodeset" --live
sleep 2
h2=$(node_mib $p $at)
echo "$name after virsh re-applied numatune $nodeset: node $at $h2 MiB"
[ "$h2" -ge "$h1" ] && ok || bad "memory left node $at after virsh numatune"
$np verify --libvirt $name --dir $plans | grep -E "vcpu|emulator|iothread|vhost"

section "a spread group from <metadata>"
# on an empty host, so the group rule alone decides the second placement
# (with np-a..np-c running, both nodes' CPUs are over-committed by hard
# pins and the rule is one cost term among others)
for d in np-a np-b np-c; do virsh destroy $d >/dev/null; done
for s in 1 2; do
    cat >/tmp/np-s$s.xml <<XML
<domain type='qemu'>
  <name>np-s$s</name>
  <memory unit='MiB'>48</memory>
  <vcpu>1</vcpu>
  <metadata><numaplace:placement xmlns:numaplace='https://numaplace.dev/xmlns/libvirt/1' group='rep:spread:100'/></metadata>
  <memoryBacking><allocation mode='immediate'/></memoryBacking>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices><emulator>/usr/bin/qemu-system-x86_64</emulator></devices>
</domain>
XML
    # np-s2 is placed only (--dry-run: planned, not started): its placement
    # is what the rule decides, and a second QEMU start costs a minute of TCG
    dry=""
    [ $s = 2 ] && dry=--dry-run
    $np create --libvirt /tmp/np-s$s.xml --dir $plans $dry >/tmp/np-s$s.out 2>&1 || bad "create np-s$s: exit $?"
    grep -E "^hints|^placement|verify:" /tmp/np-s$s.out
done
n1=$(sed -n 's/^node \([0-9]*\) .*/\1/p' $plans/np-s1.plan | head -n 1)
n2=$(sed -n 's/^node \([0-9]*\) .*/\1/p' $plans/np-s2.plan | head -n 1)
echo "spread group rep: np-s1 on node $n1, np-s2 on node $n2"
[ -n "$n1" ] && [ -n "$n2" ] && [ "$n1" != "$n2" ] && ok || bad "spread group: both on node $n1"
virsh dumpxml np-s1 | grep -A1 "<metadata>" | head -3

section "placement='auto' through the numad stand-in"
if [ -f /np/numad ]; then
    printf '#!/bin/sh\nLD_LIBRARY_PATH=/np/lib exec /np/numaplace "$@"\n' >/usr/local/bin/numaplace
    chmod 755 /usr/local/bin/numaplace
    cp /np/numad /usr/bin/numad
    chmod 755 /usr/bin/numad
    want=$(numaplace advise -w 1:64 -v)
    echo "numaplace advise -w 1:64 -> $want; the stand-in: $(numad -w 1:64)"
    cat >/tmp/np-auto.xml <<XML
<domain type='qemu'>
  <name>np-auto</name>
  <memory unit='MiB'>64</memory>
  <vcpu placement='auto'>1</vcpu>
  <numatune><memory mode='strict' placement='auto'/></numatune>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices><emulator>/usr/bin/qemu-system-x86_64</emulator></devices>
</domain>
XML
    virsh create /tmp/np-auto.xml
    virsh dumpxml np-auto | grep -E "<vcpu|numad|<memory mode" | sed 's/^ */  /'
    virsh numatune np-auto
    got=$(virsh numatune np-auto | sed -n 's/^numa_nodeset *: //p')
    [ -n "$want" ] && [ "$got" = "$want" ] && ok || bad "placement='auto' got '$got', numaplace advised '$want'"
else
    echo "(no /np/numad: skipped)"
fi
echo "$pass passed, $fail failed (in $(( $(date +%s) - T0 )) s)"
[ "$fail" = 0 ]
