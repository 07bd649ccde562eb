# shellcheck shell=bash
# xen-test-lib.sh - shared helpers of the tests/xen/*.test.sh scripts
# (sourced after `set -u` and `build=...`).
#
# A Xen test runs a script in dom0 of the emulated host (xen-host.sh),
# checks what it printed and ends with the line "N passed, M failed"; its
# exit status is 0 only when nothing failed. It is skipped (exit 0, "SKIP:
# ...", "0 passed, 0 failed", exit 77, which CTest reports as skipped) only
# when the build has no Xen support, jq is missing or the host cannot boot
# Xen (xen-host.sh exit 77).

passed=0
failed=0

# check DESCRIPTION COMMAND...: run COMMAND, count and report the outcome.
check() {
    local what=$1
    shift
    if "$@"; then
        echo "PASS $what"
        passed=$((passed + 1))
    else
        echo "FAIL $what"
        failed=$((failed + 1))
    fi
}

skip() {
    echo "SKIP: $*"
    echo "0 passed, 0 failed"
    exit 77
}

# xen_require BUILD_DIR [numaplaced]: sets $bin; fails when the programs are
# not built, skips when the build has no Xen support or jq is missing.
xen_require() {
    bin=$1/numaplace
    local p
    for p in "$bin" ${2:+"$1/$2"}; do
        [ -x "$p" ] || { echo "FAIL $p missing: build first"; echo "0 passed, 1 failed"; exit 1; }
    done
    command -v jq >/dev/null || skip "jq missing"
    if "$bin" create --help 2>&1 | grep -q 'without Xen support'; then
        skip "numaplace built without libxen-dev"
    fi
}

# What dom0 printed, in $out: the lines after "@@NAME" up to the next
# "@@" line (section), or the rest of the line "@@NAME VALUE" (field).
section() { printf '%s\n' "$out" | awk -v s="@@$1" '/^@@/ { on = ($0 == s); next } on'; }
field() { printf '%s\n' "$out" | sed -n "s/^@@$1 //p" | head -n 1; }

# dump_share SECTION DOMID NODE: percent of the domain's pages on the node
# in a debug-key `u` dump printed under "@@SECTION"; -1 when not listed.
dump_share() {
    section "$1" | awk -v d="$2" -v k="$3" '
        /Domain [0-9]+ \(total:/ { on = ($0 ~ ("Domain " d " \\(total:")); next }
        on && /Node [0-9]+: [0-9]+$/ { for (i = 1; i <= NF; i++) if ($i == "Node") n = $(i + 1) + 0
                                       p[n] = $NF; t += $NF }
        END { if (t) printf "%d", p[k] * 100 / t; else print -1 }'
}

# Ends the test: the summary line, and the status.
finish() {
    echo "$passed passed, $failed failed"
    [ "$failed" = 0 ]
}
