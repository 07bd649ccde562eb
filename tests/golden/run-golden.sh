#!/bin/sh
# run-golden.sh NUMAPLACE CMDFILE - runs `numaplace` with the arguments in
# CMDFILE (one shell-quoted line, run from the tests/ directory) and compares
# its stdout with NAME.out and its exit status with NAME.rc (0 when absent).
# NP_GOLDEN_UPDATE=1 rewrites NAME.out and NAME.rc from the current output.
set -u
bin=$1
cmdfile=$2
base=${cmdfile%.cmd}
cd "$(dirname "$0")/.." || exit 2
args=$(cat "$cmdfile")
actual=$(mktemp)
trap 'rm -f "$actual"' EXIT
eval "set -- $args"
"$bin" "$@" >"$actual" 2>/dev/null
rc=$?
want_rc=0
[ -f "$base.rc" ] && want_rc=$(cat "$base.rc")
if [ "${NP_GOLDEN_UPDATE:-0}" = 1 ]; then
    cp "$actual" "$base.out"
    if [ "$rc" != 0 ]; then echo "$rc" >"$base.rc"; else rm -f "$base.rc"; fi
    echo "updated $base.out (rc=$rc)"
    exit 0
fi
fail=0
if [ "$rc" != "$want_rc" ]; then
    echo "exit status $rc, expected $want_rc"
    fail=1
fi
if ! diff -u "$base.out" "$actual"; then
    fail=1
fi
if [ $fail = 0 ]; then echo "1 passed, 0 failed"; else echo "0 passed, 1 failed"; fi
exit $fail
