#!/bin/sh
# run-golden.sh NUMAPLACE CMDFILE - runs `numaplace` with the arguments in
# CMDFILE (one shell-quoted line, run from the tests/ directory) and compares
# its stdout with NAME.out, its stderr with NAME.err (empty when absent) and
# its exit status with NAME.rc (0 when absent).
# When NAME.filter exists, stdout is piped through that shell command first
# (e.g. a jq summary of a large JSON document).
# NAME.requires lists what the command needs from the build ("xen": built
# with libxen-dev); without it the test exits 77, which CTest reports as
# skipped.
# NP_GOLDEN_UPDATE=1 rewrites NAME.out and NAME.rc from the current output.
set -u
bin=$1
cmdfile=$2
base=${cmdfile%.cmd}
cd "$(dirname "$0")/.." || exit 2
if [ -f "$base.requires" ] && grep -qx xen "$base.requires" &&
    "$bin" create --help 2>&1 | grep -q 'without Xen support'; then
    echo "SKIP: $(basename "$base") needs a build with libxen-dev"
    exit 77
fi
args=$(cat "$cmdfile")
actual=$(mktemp)
actual_err=$(mktemp)
trap 'rm -f "$actual" "$actual_err"' EXIT
eval "set -- $args"
if [ -f "$base.filter" ]; then
    raw=$(mktemp)
    "$bin" "$@" >"$raw" 2>"$actual_err"
    rc=$?
    sh -c "$(cat "$base.filter")" <"$raw" >"$actual"
    rm -f "$raw"
else
    "$bin" "$@" >"$actual" 2>"$actual_err"
    rc=$?
fi
want_rc=0
[ -f "$base.rc" ] && want_rc=$(cat "$base.rc")
if [ "${NP_GOLDEN_UPDATE:-0}" = 1 ]; then
    cp "$actual" "$base.out"
    if [ -s "$actual_err" ]; then cp "$actual_err" "$base.err"; else rm -f "$base.err"; fi
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
want_err=/dev/null
[ -f "$base.err" ] && want_err=$base.err
if ! diff -u "$want_err" "$actual_err"; then
    fail=1
fi
if [ $fail = 0 ]; then echo "1 passed, 0 failed"; else echo "0 passed, 1 failed"; fi
exit $fail
