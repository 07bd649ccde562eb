#!/bin/sh
# advise-shim.test.sh BUILD_DIR - the numad stand-in (contrib/libvirt/numad)
# answers `numad -w VCPUS:MB` exactly as `numaplace advise` does, in numad's
# format (one line, a node list), and the real numad (when installed)
# answers the same request in the same format on this host. Other numad
# options go to the real numad. No libvirt needed: this is the interface
# libvirt uses (it runs the numad binary with "-w" and "%d:%llu").
set -u
build=$1
here=$(cd "$(dirname "$0")" && pwd)
shim=$here/../../contrib/libvirt/numad
np=$build/numaplace
pass=0 fail=0
check() { # what, got, want
    if [ "$2" = "$3" ]; then pass=$((pass + 1)); else
        echo "FAIL $1: got '$2', want '$3'"; fail=$((fail + 1)); fi
}
format_ok() { printf '%s\n' "$1" | grep -Eqx '[0-9]+(-[0-9]+)?(,[0-9]+(-[0-9]+)?)*'; }

for req in 1:256 2:1024 4:2048 1.5; do
    want=$("$np" advise -w "$req" 2>/dev/null)
    got=$(NUMAPLACE=$np "$shim" -w "$req" 2>/dev/null)
    check "shim -w $req" "$got" "$want"
    got=$(NUMAPLACE=$np "$shim" "-w$req" 2>/dev/null)
    check "shim -w$req (one word)" "$got" "$want"
    format_ok "$got" && pass=$((pass + 1)) || { echo "FAIL format of '$got'"; fail=$((fail + 1)); }
    lines=$(NUMAPLACE=$np "$shim" -w "$req" 2>/dev/null | wc -l)
    check "one line for $req" "$lines" 1
done
# a refused request fails (libvirt then refuses to start the domain)
NUMAPLACE=$np REAL_NUMAD=/nonexistent "$shim" -w 0:5 >/dev/null 2>&1
check "bad request exit" "$?" 2
NUMAPLACE=$np REAL_NUMAD=/nonexistent "$shim" -i 0 >/dev/null 2>&1
check "other options without numad" "$?" 1
# numad itself, side by side, when installed: same format; on a one-node
# host the same answer
if command -v numad >/dev/null 2>&1; then
    real=$(numad -w 2:1024 2>/dev/null)
    ours=$("$np" advise -w 2:1024)
    echo "numad -w 2:1024 -> '$real'; numaplace advise -w 2:1024 -> '$ours'"
    format_ok "$real" && pass=$((pass + 1)) || { echo "FAIL numad's format '$real'"; fail=$((fail + 1)); }
    if [ "$(cat /sys/devices/system/node/online 2>/dev/null)" = 0 ]; then
        check "numad and numaplace on a one-node host" "$ours" "$real"
    fi
fi
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
