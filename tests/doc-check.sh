#!/bin/sh
# doc-check.sh NUMAPLACE - every command that `numaplace --help` lists is
# described in the man page and has a working `numaplace help COMMAND`.
set -u
bin=$1
top=$(dirname "$0")/..
pass=0 fail=0
for cmd in $("$bin" --help | awk '/^Commands:/ {on=1; next} on && NF {print $1} on && !NF {exit}'); do
    [ "$cmd" = help ] && continue
    if grep -q "^\.B $cmd\$" "$top/man/numaplace.1"; then pass=$((pass + 1)); else
        echo "man page does not describe '$cmd'"; fail=$((fail + 1)); fi
    if "$bin" help "$cmd" | grep -q "usage: numaplace $cmd"; then pass=$((pass + 1)); else
        echo "'numaplace help $cmd' does not show its usage"; fail=$((fail + 1)); fi
done
echo "$pass passed, $fail failed"
[ "$fail" = 0 ] && [ "$pass" -gt 0 ]
