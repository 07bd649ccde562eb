#!/bin/sh
# host-local-libvirtd.test.sh BUILD_DIR - numaplace against a real libvirtd
# and QEMU (TCG) on the machine running the test (qemu:///system): labelled
# "vm" (it starts a QEMU process); skips (77) when no libvirtd answers.
#   - create --libvirt starts a 2-vCPU, 96 MiB TCG domain with an I/O
#     thread; virsh vcpupin/emulatorpin/iothreadinfo/numatune show the plan;
#     verify finds its QEMU process, its memory per node (numa_maps) and
#     every thread's affinity as planned (exit 0);
#   - numaplaced --backend libvirt lists it with its memory;
#   - after `virsh vcpupin DOMAIN 0 <a CPU outside the plan>` (only on a
#     host with CPUs outside the plan) verify exits 1;
#   - the domain is destroyed and undefined at the end.
set -u
build=$1
here=$(cd "$(dirname "$0")" && pwd)
np=$build/numaplace
uri=qemu:///system
dom=np-tcg
timeout 20 virsh -c $uri uri >/dev/null 2>&1 || { echo "SKIP: no libvirtd at $uri"; exit 77; }
"$np" create --libvirt /nonexistent 2>&1 | grep -q "built without libvirt" && { echo "SKIP: no libvirt build"; exit 77; }
tmp=$(mktemp -d)
pid=''
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null
    virsh -c $uri destroy $dom >/dev/null 2>&1
    virsh -c $uri undefine $dom >/dev/null 2>&1
    rm -rf "$tmp"
}
trap cleanup EXIT
virsh -c $uri destroy $dom >/dev/null 2>&1
virsh -c $uri undefine $dom >/dev/null 2>&1
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL $*"; fail=$((fail + 1)); }
timeout 120 "$np" create --libvirt "$here/domains/tcg.xml" --dir "$tmp" >"$tmp/create.out" 2>&1 &&
    ok || bad "create exited non-zero"
cat "$tmp/create.out"
grep -q "verify: as planned" "$tmp/create.out" && ok || bad "create's check"
cpus=$(sed -n 's/^vcpu_soft 0 //p' "$tmp/$dom.plan")
virsh -c $uri vcpupin $dom | tee "$tmp/vcpupin" | grep -Eq "^ *1 +$cpus *$" && ok || bad "vcpupin shows no $cpus"
virsh -c $uri emulatorpin $dom | grep -Eq "\*: +$cpus *$" && ok || bad "emulatorpin"
virsh -c $uri iothreadinfo $dom | grep -Eq "^ *1 +$cpus *$" && ok || bad "iothreadinfo"
virsh -c $uri numatune $dom | grep -q "numa_mode *: strict" && ok || bad "numatune mode"
timeout 60 "$np" verify --libvirt $dom --dir "$tmp" >"$tmp/verify.out" 2>&1 && ok || bad "verify exit"
cat "$tmp/verify.out"
grep -Eq "memory +100.0% of [0-9]+ MiB on the plan's nodes \(pid [0-9]+\) ok" "$tmp/verify.out" && ok ||
    bad "verify did not see the QEMU process's memory"
grep -Eq "threads +[0-9]+, 0 outside the plan's CPUs ok" "$tmp/verify.out" && ok || bad "threads"
printf 'backend = libvirt\nperiod = 300ms\n' >"$tmp/c.conf"
"$build/numaplaced" -c "$tmp/c.conf" --dry-run -s "$tmp/s.sock" -S "$tmp/st.json" >"$tmp/d.log" 2>&1 &
pid=$!
sleep 2
"$np" status --socket "$tmp/s.sock" >"$tmp/status" 2>&1
cat "$tmp/status"
grep -Eq "^$dom +[0-9]+ .*0:[1-9]" "$tmp/status" && ok || bad "status shows no memory for $dom"
kill $pid; wait $pid 2>/dev/null; pid=''
# a CPU outside the plan, when the host has one
all=$(virsh -c $uri nodeinfo | sed -n 's/^CPU(s): *//p')
other=''
i=0
while [ $i -lt "$all" ]; do
    printf '%s\n' "$cpus" | awk -v c=$i -F, '{for(j=1;j<=NF;j++){n=split($j,r,"-"); if(n==1&&r[1]==c)f=1; if(n==2&&c>=r[1]&&c<=r[2])f=1}} END{exit f?1:0}' &&
        { other=$i; break; }
    i=$((i + 1))
done
if [ -n "$other" ]; then
    virsh -c $uri vcpupin $dom 0 $other >/dev/null
    timeout 60 "$np" verify --libvirt $dom --dir "$tmp" >"$tmp/verify2.out" 2>&1
    rc=$?
    cat "$tmp/verify2.out"
    [ $rc = 1 ] && ok || bad "verify after a manual vcpupin: exit $rc, not 1"
else
    echo "(every CPU of this host is in the plan: the misplacement check needs a larger host)"
fi
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
