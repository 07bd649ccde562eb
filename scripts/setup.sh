#!/usr/bin/env bash
# setup.sh demo|test|deps|build - the README's set-up commands.
#
#   demo  install what is missing, build, run `numaplace demo`
#   test  install what is missing, build with warnings as errors, run the
#         whole test suite: unit, golden, fuzz-corpus replay, a sanitizer
#         build's tests, and a short run of every libFuzzer target
#   deps  only install the Debian packages (scripts/debian-packages.txt)
#   build only configure and build into build/
#
# Environment: NP_FUZZ_SECONDS (default 10) seconds per fuzz target in
# `test`; NP_JOBS (default: number of CPUs) parallel build jobs.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
mode=${1:-}
jobs=${NP_JOBS:-$(nproc)}

log() { printf '== %s\n' "$*" >&2; }

install_deps() {
    local missing=()
    while read -r pkg; do
        case "$pkg" in ''|'#'*) continue ;; esac
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" ||
            missing+=("$pkg")
    done < scripts/debian-packages.txt
    if [ ${#missing[@]} -eq 0 ]; then
        log "Debian packages: all present"
        return
    fi
    log "installing Debian packages: ${missing[*]}"
    local sudo=""
    [ "$(id -u)" = 0 ] || sudo=sudo
    # xen-hypervisor-common's /etc/default/grub.d/xen.cfg makes GRUB boot
    # Xen by default unless XEN_OVERRIDE_GRUB_DEFAULT is set: keep this
    # machine's default entry (the tests boot Xen under QEMU, never here).
    if [ -d /boot/grub ] && [ ! -e /etc/default/grub.d/numaplace-keep-default.cfg ]; then
        $sudo mkdir -p /etc/default/grub.d
        echo 'XEN_OVERRIDE_GRUB_DEFAULT=${XEN_OVERRIDE_GRUB_DEFAULT:-0}' |
            $sudo tee /etc/default/grub.d/numaplace-keep-default.cfg >/dev/null
    fi
    $sudo apt-get update -q
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
}

build() { # build DIR [cmake args...]
    local dir=$1; shift
    cmake -S . -B "$dir" "$@" >/dev/null
    cmake --build "$dir" -j "$jobs"
}

run_fuzzers() {
    local secs=${NP_FUZZ_SECONDS:-10}
    build build-fuzz -DCMAKE_C_COMPILER=clang -DNP_FUZZ=ON -DNP_WERROR=ON \
        -DCMAKE_BUILD_TYPE=Debug
    local failed=0 ran=0
    for bin in build-fuzz/tests/fuzz_*; do
        [ -x "$bin" ] || continue
        local name=${bin##*/fuzz_}
        local corpus=build-fuzz/corpus/$name
        mkdir -p "$corpus"
        log "fuzzing $name for ${secs}s"
        if "$bin" -max_total_time="$secs" -max_len=65536 -timeout=10 -print_final_stats=0 \
            "$corpus" tests/fuzz/corpus/"$name" >build-fuzz/fuzz-"$name".log 2>&1; then
            ran=$((ran + 1))
        else
            failed=$((failed + 1))
            tail -40 build-fuzz/fuzz-"$name".log >&2
        fi
    done
    echo "fuzz: $ran passed, $failed failed"
    [ $failed = 0 ]
}

case "$mode" in
deps)
    install_deps
    ;;
build)
    install_deps
    build build
    ;;
demo)
    install_deps
    build build
    ./build/numaplace demo
    ;;
test)
    install_deps
    log "build with warnings as errors"
    build build -DNP_WERROR=ON
    # Guests booted under TCG share two cores: a boot that stalls is retried
    # once before it counts as a failure. The Xen scenarios that create
    # guests (label xen-long, minutes each) are run by hand: docs/xen.md.
    (cd build && ctest --output-on-failure -j "$jobs" -LE long --repeat until-pass:2)
    log "sanitizer build (ASan + UBSan)"
    build build-asan -DNP_WERROR=ON -DNP_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
    # The multi-node guest tests (label vm) ran above; in the sanitizer build
    # they would only boot the same guests again with a 50 MB initramfs.
    (cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
        ctest --output-on-failure -j "$jobs" -LE 'vm|xen')
    log "fuzz targets"
    run_fuzzers
    ;;
*)
    echo "usage: scripts/setup.sh demo|test|deps|build" >&2
    exit 2
    ;;
esac
