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
#   3. numaplaced --backend libvirt brings it back: afterwards its memory is
#      home, virsh numatune names the node, and a `virsh numatune` that
#      re-applies the nodeset leaves the memory where it is;
#   4. with the numad stand-in (contrib/libvirt/numad, passed with -f) at
#      /usr/bin/numad, a domain with placement='auto' gets the nodes
#      `numaplace advise` names.
set -u
np=/np/numaplace
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL $*"; fail=$((fail + 1)); }
plans=/tmp/plans
mkdir -p $plans

echo "== host"
$np topology | head -8
# node os_id -> MiB of a process's memory from numa_maps
node_mib() { # PID NODE
    awk -v n="N$2=" '{for(i=1;i<=NF;i++) if(index($i,n)==1){split($i,a,"=");p+=a[2]}} END{printf "%d\n", p*4/1024}' \
        /proc/$1/numa_maps
}
qpid() { pgrep -f "guest=$1," | head -n 1; }

for spec in a:1:128 b:2:256 c:2:512; do
    name=np-${spec%%:*}; rest=${spec#*:}; vcpus=${rest%%:*}; mem=${rest#*:}
    cat >/tmp/$name.xml <<XML
<domain type='qemu'>
  <name>$name</name>
  <memory unit='MiB'>$mem</memory>
  <vcpu>$vcpus</vcpu>
  <iothreads>1</iothreads>
  <memoryBacking><allocation mode='immediate'/></memoryBacking>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices><emulator>/usr/bin/qemu-system-x86_64</emulator></devices>
</domain>
XML
    echo "== create $name ($vcpus vCPUs, $mem MiB)"
    t0=$(date +%s)
    $np create --libvirt /tmp/$name.xml --dir $plans >/tmp/$name.out 2>&1
    rc=$?
    cat /tmp/$name.out
    echo "(create took $(( $(date +%s) - t0 )) s)"
    [ $rc = 0 ] && ok || bad "create $name: exit $rc"
    grep -q "verify: as planned" /tmp/$name.out && ok || bad "create $name: check"
    virsh vcpupin $name; virsh emulatorpin $name; virsh numatune $name
    home=$(sed -n 's/^node \([0-9]*\) .*/\1/p' $plans/$name.plan | head -n 1)
    p=$(qpid $name)
    echo "$name: pid $p, numa_maps node 0: $(node_mib $p 0) MiB, node 1: $(node_mib $p 1) MiB (plan: node $home)"
    virsh numatune $name | grep -q "numa_nodeset *: $home\$" && ok || bad "$name numatune"
    $np verify --libvirt $name --dir $plans >/tmp/$name.v 2>&1 && ok || { bad "verify $name"; cat /tmp/$name.v; }
done

echo "== moved by hand"
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

echo "== numaplaced --backend libvirt"
printf 'backend = libvirt\nperiod = 1s\nmigrate_budget = 256M\n' >/tmp/np.conf
t0=$(date +%s)
/np/numaplaced -c /tmp/np.conf -s /tmp/np.sock -S /tmp/np-state.json --rounds 20 -l info \
    >/tmp/np.log 2>&1
echo "(numaplaced: 20 rounds in $(( $(date +%s) - t0 )) s)"
grep -E "move|home|steer|numatune" /tmp/np.log | head -20
echo "$name: node $home $(node_mib $p $home) MiB, node $other $(node_mib $p $other) MiB after numaplaced"
virsh numatune $name; virsh vcpupin $name; virsh emulatorpin $name
h=$(node_mib $p $home); o=$(node_mib $p $other)
[ "$h" -gt $((o * 9)) ] && ok || bad "numaplaced did not bring $name home ($h vs $o MiB)"
nodeset=$(virsh numatune $name | sed -n 's/^numa_nodeset *: //p')
virsh numatune $name --nodeset "$nodeset" --live
sleep 2
h2=$(node_mib $p $home)
echo "$name after virsh re-applied numatune $nodeset: node $home $h2 MiB"
[ "$h2" -ge "$h" ] && ok || bad "memory left home after virsh numatune"
echo "== placement='auto' through the numad stand-in"
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
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
