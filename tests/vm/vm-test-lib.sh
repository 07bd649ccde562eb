# shellcheck shell=bash
# vm-test-lib.sh - shared helpers of the tests/vm/*.test.sh scripts (sourced).
#
# A VM test boots guests with numa-vm.sh, checks what it sees and ends with
# the line "N passed, M failed"; its exit status is 0 only when nothing
# failed. It is skipped (exit 0, "SKIP: ...", "0 passed, 0 failed") only when
# QEMU or a kernel image is not installed; anything else that goes wrong
# (a missing busybox, a guest that does not boot) is a failure.

vm_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck disable=SC2034 # used by the scripts that source this file
vm_runner=$vm_here/numa-vm.sh
vm_passed=0
vm_failed=0

# The source tree the running test belongs to (its scripts are in tests/vm).
# shellcheck disable=SC2034 # used by the scripts that source this file
vm_src=$(cd "$(dirname "$0")/../.." && pwd)

# vm_start BUILD_DIR PROG_SUBDIR FILE...: the start the daemon and mover
# tests share. Skips the whole test when the host cannot boot guests or the
# runner is missing, fails it when the build lacks one of FILE..., and makes
# BUILD_DIR/PROG_SUBDIR for the guest programs (vm_prog). A test sources
# this file first with the line
#   . "${NP_VM_DIR:-$(dirname "$0")}/vm-test-lib.sh" 2>/dev/null || { echo SKIP ...; exit 0; }
# shellcheck disable=SC2034 # vm_prog: used by the scripts that source this file
vm_start() {
    if [ ! -x "$vm_runner" ]; then
        echo "SKIP: $vm_here has no numa-vm.sh (the VM runner)"
        echo "0 passed, 0 failed"
        exit 0
    fi
    vm_require_host
    vm_prog=$1/$2
    shift 2
    vm_require_built "$@"
    mkdir -p "$vm_prog"
}

# vm_require_host: skip the whole test when the host cannot boot guests.
vm_require_host() {
    local why=""
    command -v qemu-system-x86_64 >/dev/null 2>&1 ||
        why="qemu-system-x86_64 is not installed (Debian: qemu-system-x86)"
    if [ -z "$why" ] && ! ls /boot/vmlinuz-* >/dev/null 2>&1; then
        why="no kernel image /boot/vmlinuz-* (Debian: linux-image-amd64)"
    fi
    if [ -n "$why" ]; then
        echo "SKIP: $why"
        echo "0 passed, 0 failed"
        exit 0
    fi
}

# vm_check NAME COMMAND...: run COMMAND, count and report the outcome.
vm_check() {
    local name=$1
    shift
    if "$@"; then
        vm_passed=$((vm_passed + 1))
        echo "PASS $name"
    else
        vm_failed=$((vm_failed + 1))
        echo "FAIL $name"
    fi
}

# vm_has_line TEXT LINE: TEXT contains LINE as a whole line.
vm_has_line() { printf '%s\n' "$1" | grep -qxF -- "$2"; }

# vm_finish: print the summary line and exit with the verdict.
vm_finish() {
    echo "$vm_passed passed, $vm_failed failed"
    [ "$vm_failed" = 0 ]
    exit
}

# vm_require_built FILE...: fail the whole test when the build lacks one.
vm_require_built() {
    local f
    for f in "$@"; do
        if [ ! -e "$f" ]; then
            echo "FAIL $f is missing: build the project first"
            echo "0 passed, 1 failed"
            exit 1
        fi
    done
}

# vm_cc [--san BUILT_FILE] OUT SOURCE...: compile a guest program with the
# project's public headers; --san: with AddressSanitizer/UBSan when
# BUILT_FILE was built with them (a sanitizer build's library needs the same
# runtime in the programs). A failed compile fails the whole test.
vm_cc() {
    local san="" cc=${CC:-cc}
    if [ "$1" = --san ]; then
        nm "$2" 2>/dev/null | grep -q '__asan_report' && san="-fsanitize=address,undefined"
        shift 2
    fi
    local out=$1
    shift
    # shellcheck disable=SC2086 # $san is empty or one word list on purpose
    if ! $cc -O2 -Wall $san -I"${src:-$vm_here/../..}/include" -o "$out" "$@"; then
        echo "FAIL building $(basename "$out")"
        echo "0 passed, 1 failed"
        exit 1
    fi
}
