#!/bin/bash
# faults.sh BUILD_DIR [CASE...] - the fault suite (issue 13): numaplaced and
# numaplace under the faults an operator or a hostile client causes: a
# second daemon, a socket path that is a file or a directory, paths too
# long, a configuration replaced by a directory before SIGHUP, idle and
# slow clients, corrupt and newer state files, SIGTERM while busy, kill -9
# then a restart, standard output that cannot be written, hwloc XML with
# empty bitmap words, sysfs trees without nodes, and the simulator's and
# readers' size and FIFO limits.
#
# Each case runs the daemon or the command on this machine (one NUMA node
# is enough: the guests are ordinary processes listed with --pid) in a
# scratch directory, checks what it must, and prints "ok NAME" or
# "FAIL NAME: why". The last line is "N passed, N failed"; the exit status
# is 0 only when every case passed. Name cases to run only those.
set -u
build=$(cd "${1:?usage: faults.sh BUILD_DIR [CASE...]}" && pwd)
shift
src=$(cd "$(dirname "$0")/../.." && pwd)
NP=$build/numaplace
NPD=$build/numaplaced
CLIENT=$build/tests/fault_client
FIX=$src/tests/fixtures
T=$(mktemp -d /tmp/np-faults-XXXXXX)
passed=0
failed=0
pids=()

cleanup() {
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT

fail() { why="$*"; return 1; }
ms_now() { echo $(($(date +%s%N) / 1000000)); }

# A stand-in guest: a process with some memory of its own (the daemon
# senses its pages per node like a QEMU's).
start_guest() {
    perl -e '$x = "a" x (16 << 20); sleep 600' &
    GUEST=$!
    pids+=("$GUEST")
}

# start_daemon DIR [OPTIONS...]: numaplaced on DIR/sock and DIR/state.json,
# log in DIR/log; waits until it listens. $D is its PID.
start_daemon() {
    local dir=$1
    shift
    "$NPD" -s "$dir/sock" -S "$dir/state.json" "$@" 2>>"$dir/log" &
    D=$!
    pids+=("$D")
    for _ in $(seq 100); do
        grep -q "started" "$dir/log" 2>/dev/null && [ -S "$dir/sock" ] && return 0
        kill -0 "$D" 2>/dev/null || return 1
        sleep 0.05
    done
    return 1
}

# stop_within MS PID: SIGTERM, then true when the process ended in time.
stop_within() {
    local t0 limit=$1 pid=$2
    t0=$(ms_now)
    kill -TERM "$pid" 2>/dev/null
    while kill -0 "$pid" 2>/dev/null; do
        [ $(($(ms_now) - t0)) -gt "$limit" ] && return 1
        sleep 0.02
    done
    wait "$pid" 2>/dev/null
    return 0
}

# ---- numaplaced ------------------------------------------------------------

case_second_daemon_socket() {
    local d=$T/c1 out rc
    mkdir -p "$d"
    start_guest
    start_daemon "$d" --pid "$GUEST" -p 1s || fail "first daemon did not start" || return
    out=$(timeout 10 "$NPD" -s "$d/sock" -S "$d/other.json" --pid "$GUEST" 2>&1)
    rc=$?
    [ $rc -ne 0 ] || fail "second daemon on the same socket exited 0" || return
    [[ $out == *"another numaplaced (pid $D) is running with the control socket"* ]] ||
        fail "message: $out" || return
    "$NP" status --socket "$d/sock" >/dev/null || fail "the first daemon no longer answers" || return
    stop_within 1000 "$D" || fail "did not stop" || return
}

case_second_daemon_state() {
    local d=$T/c2 out rc
    mkdir -p "$d"
    start_guest
    start_daemon "$d" --pid "$GUEST" -p 1s || fail "first daemon did not start" || return
    out=$(timeout 10 "$NPD" -s "$d/sock2" -S "$d/state.json" --pid "$GUEST" 2>&1)
    rc=$?
    [ $rc -ne 0 ] || fail "second daemon on the same state file exited 0" || return
    [[ $out == *"running with the state file $d/state.json"* ]] || fail "message: $out" || return
    [ ! -e "$d/sock2" ] || fail "the refused daemon left a socket" || return
    stop_within 1000 "$D" || fail "did not stop" || return
}

case_socket_is_file() {
    local d=$T/c3 out rc
    mkdir -p "$d"
    echo "precious" >"$d/state.json.keep"
    out=$(timeout 10 "$NPD" -s "$d/state.json.keep" -S "$d/state.json" --pid $$ --rounds 1 2>&1)
    rc=$?
    [ $rc -ne 0 ] || fail "exited 0" || return
    [ "$(cat "$d/state.json.keep")" = precious ] || fail "the file was destroyed" || return
    [[ $out == *"the path is a regular file, not a socket; not replacing it"* ]] ||
        fail "message: $out" || return
}

case_socket_is_directory() {
    local d=$T/c4 out
    mkdir -p "$d/sockdir"
    out=$(timeout 10 "$NPD" -s "$d/sockdir" -S "$d/state.json" --pid $$ --rounds 1 2>&1)
    [ $? -ne 0 ] || fail "exited 0" || return
    [[ $out == *"the path is a directory, not a socket"* ]] || fail "message: $out" || return
    [[ $out != *"Address already in use"* ]] || fail "still says Address already in use" || return
}

case_paths_too_long() {
    local long out
    long=/tmp/$(printf 'x%.0s' $(seq 300))
    out=$(timeout 10 "$NPD" -s "$long" -p 100ms --rounds 1 2>&1)
    [ $? -eq 2 ] && [[ $out == *"--socket: a path of 1 to 107 bytes"* ]] ||
        fail "-s: $out" || return
    out=$(timeout 10 "$NPD" -S "$long" -p 100ms --rounds 1 2>&1)
    [ $? -eq 2 ] && [[ $out == *"--state: a path of 1 to 255 bytes"* ]] || fail "-S: $out" || return
    out=$(timeout 10 "$NPD" --cgroup "$long" -p 100ms --rounds 1 2>&1)
    [ $? -eq 2 ] && [[ $out == *"--cgroup: a path of 1 to 255 bytes"* ]] ||
        fail "--cgroup: $out" || return
}

case_rounds_negative() {
    local out
    out=$(timeout 5 "$NPD" --rounds -1 -s "$T/r.sock" -S "$T/r.json" --pid $$ 2>&1)
    [ $? -eq 2 ] && [[ $out == *"--rounds: a positive number"* ]] || fail "$out" || return
}

case_cgroup_missing() {
    local out rc
    out=$(timeout 5 "$NPD" --cgroup /nonexistent-np-faults -s "$T/g.sock" -S "$T/g.json" 2>&1)
    rc=$?
    [ $rc -ne 0 ] && [ $rc -ne 124 ] || fail "rc $rc (124: still running)" || return
    [[ $out == *"cgroup /nonexistent-np-faults: cannot read its processes"* ]] ||
        fail "message: $out" || return
}

case_socket_group_missing() {
    local d=$T/c5 out
    mkdir -p "$d"
    printf 'period = 1s\nsocket_group = nosuchgroup-np\n' >"$d/conf"
    out=$(timeout 5 "$NPD" -c "$d/conf" -s "$d/sock" -S "$d/state.json" --pid $$ 2>&1)
    [ $? -eq 2 ] || fail "rc not 2: $out" || return
    [[ $out == *"$d/conf:2: socket_group nosuchgroup-np: no such group"* ]] ||
        fail "message: $out" || return
}

case_config_dir_sighup() {
    local d=$T/c6 st
    mkdir -p "$d"
    start_guest
    printf 'dry_run = yes\ndiscover = pids\npid = %s\nperiod = 200ms\n' "$GUEST" >"$d/conf"
    start_daemon "$d" -c "$d/conf" || fail "did not start" || return
    mv "$d/conf" "$d/conf.old" && mkdir "$d/conf"
    kill -HUP "$D"
    sleep 0.6
    grep -q "reload failed: keeping the running configuration" "$d/log" ||
        fail "no 'reload failed' in the log" || return
    grep -q "the configuration file is a directory" "$d/log" || fail "no reason logged" || return
    st=$("$NP" status --socket "$d/sock" --json) || fail "status failed" || return
    [[ $st == *'"dry_run": true'* ]] || fail "no longer a dry run: $st" || return
    [[ $st == *"\"pid\": $GUEST"* ]] || fail "guests changed: $st" || return
    stop_within 1000 "$D" || fail "did not stop" || return
}

# status_times SOCK N: N `numaplace status` times in ms, sorted.
status_times() {
    local t0 i
    for i in $(seq "$2"); do
        t0=$(ms_now)
        "$NP" status --socket "$1" >/dev/null || echo 99999
        echo $(($(ms_now) - t0))
        sleep 0.2
    done | sort -n
}

# The median of 9 is the figure checked: on this shared 2-core machine one
# process start alone sometimes takes 100 ms, with or without clients. A
# sanitizer build starts each process several times slower: 300 ms there.
sanitized() { grep -q '^NP_SANITIZE:BOOL=ON' "$build/CMakeCache.txt" 2>/dev/null; }
status_limit_ms() {
    if sanitized; then
        echo 300
    else
        echo 100
    fi
}

case_slow_and_idle_clients() {
    local d=$T/c7 base loaded r0 r1 cp
    mkdir -p "$d"
    start_guest
    start_daemon "$d" --pid "$GUEST" -p 200ms || fail "did not start" || return
    base=$(status_times "$d/sock" 9 | tr '\n' ' ')
    r0=$("$NP" status --socket "$d/sock" | sed -n 's/^numaplaced: \([0-9]*\) rounds.*/\1/p')
    "$CLIENT" "$d/sock" 50 300 4 >"$d/client.out" &
    cp=$!
    sleep 0.3
    loaded=$(status_times "$d/sock" 9 | tr '\n' ' ')
    wait $cp
    r1=$("$NP" status --socket "$d/sock" | sed -n 's/^numaplaced: \([0-9]*\) rounds.*/\1/p')
    local median worst
    median=$(echo "$loaded" | awk '{print $5}')
    worst=$(echo "$loaded" | awk '{print $9}')
    echo "   status (ms, sorted) alone: $base"
    echo "   status (ms, sorted) with 50 idle connections and a byte-every-0.3s client: $loaded"
    echo "   rounds $r0 -> $r1 in about 4 s at 200 ms ($(cat "$d/client.out"))"
    [ "$median" -lt "$(status_limit_ms)" ] ||
        fail "median status took $median ms (limit $(status_limit_ms))" || return
    [ "$worst" -lt 1000 ] || fail "a status took $worst ms" || return
    [ $((r1 - r0)) -ge 10 ] || fail "only $((r1 - r0)) rounds at 200 ms in about 4 s" || return
    stop_within 1000 "$D" || fail "did not stop" || return
}

# state_case NAME CONTENT: a damaged state file is moved aside, reported,
# and its exclusions kept when they can be read.
state_case() {
    local d=$T/s-$1 bad
    mkdir -p "$d"
    printf '%s' "$2" >"$d/state.json"
    start_guest
    start_daemon "$d" --pid "$GUEST" -p 200ms || fail "did not start: $(cat "$d/log")" || return
    sleep 0.5
    stop_within 1000 "$D" || fail "did not stop" || return
    bad=$(ls "$d"/state.json.bad-* 2>/dev/null | head -1)
    [ -n "$bad" ] || fail "not moved aside" || return
    [ "$(cat "$bad")" = "$2" ] || fail "the moved file differs" || return
    grep -q "moved aside to $bad" "$d/log" || fail "not reported: $(cat "$d/log")" || return
    [ -s "$d/state.json" ] || fail "no new state written" || return
}

case_state_truncated() { state_case truncated '{"version": 1, "rounds": 3, "guests": [{"na'; }
case_state_empty() { state_case empty ''; }
case_state_random() { state_case random "$(head -c 200 /dev/urandom | tr -d '\0')"; }
case_state_wrong_type() {
    state_case wrongtype '{"version": 1, "guests": {"a": 1}, "excluded": ["web", "db"]}' || return
    grep -q '"web"' "$T/s-wrongtype/state.json" && grep -q '"db"' "$T/s-wrongtype/state.json" ||
        fail "exclusions lost: $(cat "$T/s-wrongtype/state.json")" || return
}

case_state_newer() {
    local d=$T/c8 out rc text='{"version": 7, "guests": [], "excluded": ["web"], "future": 1}'
    mkdir -p "$d"
    printf '%s' "$text" >"$d/state.json"
    out=$(timeout 5 "$NPD" -s "$d/sock" -S "$d/state.json" --pid $$ -p 200ms 2>&1)
    rc=$?
    [ $rc -ne 0 ] && [ $rc -ne 124 ] || fail "rc $rc" || return
    [ "$(cat "$d/state.json")" = "$text" ] || fail "the newer file was changed" || return
    [[ $out == *"written by a newer numaplaced (state version 7"* ]] || fail "message: $out" || return
    [ ! -e "$d/sock" ] || fail "socket left behind" || return
}

case_state_directory() {
    local d=$T/c9 out rc
    mkdir -p "$d/state.json"
    out=$(timeout 5 "$NPD" -s "$d/sock" -S "$d/state.json" --pid $$ -p 200ms 2>&1)
    rc=$?
    [ $rc -ne 0 ] && [ $rc -ne 124 ] || fail "rc $rc" || return
    [[ $out == *"is a directory, not a state file"* ]] || fail "message: $out" || return
}

case_sigterm_idle() {
    local d=$T/c10
    mkdir -p "$d"
    start_guest
    start_daemon "$d" --pid "$GUEST" -p 60s || fail "did not start" || return
    stop_within 1000 "$D" || fail "not stopped within 1 s" || return
    [ ! -e "$d/sock" ] || fail "socket left behind" || return
}

case_sigterm_busy_clients() {
    local d=$T/c11 cp
    mkdir -p "$d"
    start_guest
    start_daemon "$d" --pid "$GUEST" -p 200ms || fail "did not start" || return
    "$CLIENT" "$d/sock" 20 300 3 >/dev/null &
    cp=$!
    sleep 0.7
    stop_within 1000 "$D" || fail "not stopped within 1 s with a slow client" || return
    wait $cp
}

case_kill9_restart() {
    local d=$T/c12 st moved1 moved2
    mkdir -p "$d"
    start_guest
    start_daemon "$d" --pid "$GUEST" -p 200ms || fail "did not start" || return
    "$NP" exclude web-excluded --socket "$d/sock" >/dev/null || fail "exclude failed" || return
    sleep 0.6
    moved1=$("$NP" status --socket "$d/sock" --json | grep -o '"moved_bytes": [0-9]*' | head -1)
    kill -9 "$D"
    wait "$D" 2>/dev/null
    [ -S "$d/sock" ] || fail "no stale socket to test with" || return
    start_daemon "$d" --pid "$GUEST" -p 200ms || fail "restart refused: $(tail -3 "$d/log")" || return
    sleep 0.6
    st=$("$NP" status --socket "$d/sock" --json)
    [[ $st == *'"web-excluded"'* ]] || fail "exclusion lost: $st" || return
    moved2=$(echo "$st" | grep -o '"moved_bytes": [0-9]*' | head -1)
    [ "$moved1" = "$moved2" ] || fail "moved bytes changed: $moved1 -> $moved2" || return
    [ "$(grep -c "state loaded from" "$d/log")" = 1 ] || fail "state not reloaded" || return
    stop_within 1000 "$D" || fail "did not stop" || return
}

case_guest_exit_logged_once() {
    local d=$T/c13 n
    mkdir -p "$d"
    start_guest
    start_daemon "$d" --pid "$GUEST" -p 100ms || fail "did not start" || return
    sleep 0.4
    kill -9 "$GUEST"
    wait "$GUEST" 2>/dev/null
    sleep 1.2
    n=$(grep -c "$GUEST" "$d/log")
    [ "$n" -eq 1 ] || fail "the exit of pid $GUEST is logged $n times: $(grep "$GUEST" "$d/log")" ||
        return
    stop_within 1000 "$D" || fail "did not stop" || return
}

# A QEMU guest found by discovery (discover = qemu: a process whose argv[0]
# is qemu-system-*, named by -name) exits; its parent reaps it only 2 s
# later, so the dying process is listed as a zombie for a few rounds. Its
# exit must be logged once. A dry run: discovery also finds any other QEMU
# on this machine (the other VM tests'), which it must not touch; only
# this guest's lines are counted.
case_guest_exit_qemu_logged_once() {
    local d=$T/c16 fq pp n
    mkdir -p "$d"
    cat >"$d/parent.pl" <<'PL'
$| = 1;
my $p = fork();
if (!$p) {
    exec {"perl"} "qemu-system-x86_64", "-e", '$x = "a" x (16 << 20); sleep 600', "--",
        "-name", "guest=faultq,debug-threads=on";
}
open(my $f, ">", $ARGV[0]); print $f "$p\n"; close($f);
$SIG{TERM} = sub { sleep 2; waitpid($p, 0); exit 0 };
sleep 600;
PL
    perl "$d/parent.pl" "$d/child.pid" &
    pp=$!
    pids+=("$pp")
    for _ in $(seq 50); do [ -s "$d/child.pid" ] && break; sleep 0.05; done
    fq=$(cat "$d/child.pid")
    start_daemon "$d" --dry-run -p 100ms || fail "did not start" || return
    sleep 0.6
    "$NP" status --socket "$d/sock" | grep -q "faultq" || fail "the fake QEMU was not found" || return
    kill -9 "$fq"
    kill -TERM "$pp"
    sleep 3
    n=$(grep -c "guest faultq (pid $fq) \(is gone\|exited\)" "$d/log")
    [ "$n" -eq 1 ] || fail "the exit of faultq is logged $n times: $(grep "pid $fq" "$d/log")" || return
    stop_within 1000 "$D" || fail "did not stop" || return
}

# Identity: a guest is its pid and its process's start time. A state file
# that remembers the guest's pid and name with another start time (the pid
# reused by a new process) must not hand the new process the old one's
# migration, moved bytes or balancer state; with the right start time it
# is the same guest and keeps them.
identity_state() { # FILE PID INSTANCE
    cat >"$1" <<EOF
{"version": 1, "rounds": 5, "excluded": [], "recent": [],
 "guests": [{"name": "perl", "pid": $2, "instance": $3, "home": 0, "moved_bytes": 4096,
             "inflight": {"from": 1, "to": 0, "left_bytes": 8192}}],
 "balance": {"version": 1, "last_round_ns": 1, "guests": [{"name": "perl", "home": 0,
             "pending_bytes": 8192, "moves": 1, "low_rounds": 3, "move_bytes": 12288}]}}
EOF
}
case_identity_pid_reuse() {
    local d=$T/c17 st start
    mkdir -p "$d/same" "$d/other"
    start_guest
    start=$(sed 's/^.*) //' "/proc/$GUEST/stat" | awk '{ print $20 }')
    identity_state "$d/other/state.json" "$GUEST" $((start + 7))
    start_daemon "$d/other" --pid "$GUEST" -p 100ms || fail "did not start" || return
    sleep 0.5
    st=$("$NP" status --socket "$d/other/sock" --json)
    grep -q "a new process under the same pid $GUEST: a new guest" "$d/other/log" ||
        fail "not taken as a new guest: $(cat "$d/other/log")" || return
    [[ $st == *'"moved_bytes": 0'* && $st != *'"inflight": true'* ]] ||
        fail "the new process inherited the old one's state: $st" || return
    stop_within 1000 "$D" || fail "did not stop" || return
    identity_state "$d/same/state.json" "$GUEST" "$start"
    start_daemon "$d/same" --pid "$GUEST" -p 100ms || fail "did not start (same)" || return
    sleep 0.5
    st=$("$NP" status --socket "$d/same/sock" --json)
    ! grep -q "a new guest" "$d/same/log" || fail "the same process taken as a new guest" || return
    [[ $st == *'"moved_bytes": 4096'* ]] || fail "the same process lost its state: $st" || return
    stop_within 1000 "$D" || fail "did not stop (same)" || return
}

# A cgroup removed while the daemon runs fails every round: logged once,
# then counted (the fixture root gives the daemon a 2-node /sys).
case_cgroup_vanishes_logged_once() {
    local d=$T/c15 n
    mkdir -p "$d/root/sys/fs/cgroup/cg"
    cp -r "$FIX/linux/kvmhost-2n/sys" "$d/root/"
    : >"$d/root/sys/fs/cgroup/cg/cgroup.procs"
    start_daemon "$d" --root "$d/root" --cgroup /cg -p 100ms || fail "did not start" || return
    rm -rf "$d/root/sys/fs/cgroup/cg"
    sleep 1
    stop_within 1000 "$D" || fail "did not stop" || return
    n=$(grep -c "sensing failed" "$d/log")
    [ "$n" -eq 1 ] || fail "'sensing failed' logged $n times" || return
    grep -q "last message repeated [0-9]* times" "$d/log" || fail "repeats not counted" || return
}

case_control_bytes_in_log() {
    local d=$T/c14 evil
    mkdir -p "$d"
    evil="$d/$(printf 'ev\033[31mil')"
    cp "$(command -v sleep)" "$evil"
    "$evil" 600 &
    GUEST=$!
    pids+=("$GUEST")
    start_daemon "$d" --pid "$GUEST" -p 100ms -l debug || fail "did not start" || return
    sleep 0.4
    kill -9 "$GUEST"
    sleep 0.4
    stop_within 1000 "$D" || fail "did not stop" || return
    grep -q "ev\\\\x1b\[31mil" "$d/log" || fail "the escaped name is not in the log" || return
    ! grep -q $'\033' "$d/log" || fail "a raw escape byte reached the log" || return
}

# ---- numaplace: writes that fail --------------------------------------------

# full_case NAME ARGS...: stdout on /dev/full must give a non-zero exit and
# a message naming standard output.
full_case() {
    local out rc
    out=$("$NP" "$@" 2>&1 >/dev/full)
    rc=$?
    [ $rc -ne 0 ] || fail "$* > /dev/full exited 0" || return
    [[ $out == *"standard output"* ]] || fail "$* > /dev/full: message: $out" || return
    out=$("$NP" "$@" 2>&1 >&-)
    rc=$?
    [ $rc -ne 0 ] || fail "$* with stdout closed exited 0" || return
}

case_stdout_full_place_xl() {
    full_case place --from builtin:2s-2n --vm name=a,vcpus=2,memory=1G --emit xl
}
case_stdout_full_place_json() { full_case place --from builtin:2s-2n --vm name=a,vcpus=2,memory=1G --json; }
case_stdout_full_topology() { full_case topology --from builtin:2s-2n; }
case_stdout_full_topology_json() { full_case topology --from builtin:2s-2n --json; }

# ---- messages (item 10) -------------------------------------------------------

# msg_case RC WANT ARGS...: numaplace ARGS exits RC and says WANT.
msg_case() {
    local rc=$1 want=$2 out got
    shift 2
    out=$("$NP" "$@" 2>&1)
    got=$?
    [ $got -eq "$rc" ] || fail "$*: rc $got, not $rc: $out" || return
    [[ $out == *"$want"* ]] || fail "$*: says: $out" || return
}

case_msg_guest_empty_file() {
    : >"$T/empty.cfg"
    msg_case 2 "the file is empty" place --from builtin:2s-2n --guest "$T/empty.cfg"
}
case_msg_guest_json_array() {
    echo '[{"name": "a"}]' >"$T/array.json"
    msg_case 2 "JSON that is not an object" place --from builtin:2s-2n --guest "$T/array.json"
}
case_msg_dom0_memory_zero() { msg_case 2 "--memory: a size above 0" dom0 --from builtin:2s-2n --memory 0; }
case_msg_memory_rounding() {
    msg_case 2 "has only 34326183936 bytes" place --from "synthetic:numa:1(memory=34326183936) pu:4" \
        --vm name=a,vcpus=1,memory=32G
}
case_msg_sim_scenario_bad_host() {
    printf '{"schema": "numaplace.sim-scenario/1", "name": "x",\n "host": "nosuchhost",\n' >"$T/h.json"
    printf ' "duration_s": 1, "guests": [{"name": "g", "vcpus": 1, "memory_mib": 64}]}\n' >>"$T/h.json"
    msg_case 2 "$T/h.json:2: host: expected gen:NODES" bench --scenario "$T/h.json" --policy none
}
case_msg_long_name_not_echoed() {
    local long out
    long=$(head -c 100000 /dev/zero | tr '\0' a)
    out=$("$NP" verify "$long" 2>&1)
    [ ${#out} -lt 1000 ] || fail "a 100 KB name gave a ${#out}-byte message" || return
}
case_msg_migrate_name_off_dom0() {
    [ -e /proc/xen/capabilities ] && grep -q control_d /proc/xen/capabilities && return 0
    local out got
    out=$("$NP" migrate "$(head -c 100000 /dev/zero | tr '\0' a)" --to 0 2>&1)
    got=$?
    [ $got -eq 2 ] || fail "rc $got, not 2: ${out:0:300}" || return
    [[ $out == *"is not a PID"* ]] || fail "says: ${out:0:300}" || return
    [[ $out != *libxl* && $out != *xencall* ]] || fail "libxl noise: ${out:0:300}" || return
    [ ${#out} -lt 1000 ] || fail "a 100 KB name gave a ${#out}-byte message" || return
}
case_msg_status_long_socket() {
    local out
    out=$("$NP" status --socket "$(head -c 100000 /dev/zero | tr '\0' a)" 2>&1)
    [ ${#out} -lt 1000 ] || fail "a 100 KB socket path gave a ${#out}-byte message" || return
}

# ---- readers -------------------------------------------------------------------

case_xml_empty_bitmap_words() {
    local out
    out=$("$NP" topology --from "$FIX/hwloc/handmade/3n-96pu-empty-words.xml" 2>&1) ||
        fail "refused: $out" || return
    [[ $out == *"nodes    3"* ]] || fail "$out" || return
    if command -v lstopo-no-graphics >/dev/null; then
        lstopo-no-graphics -i "node:3 pu:32" --of xml >"$T/x.xml" 2>/dev/null
        out=$("$NP" topology --from "$T/x.xml" 2>&1) || fail "lstopo's export refused: $out" || return
    fi
}

# compare_with_hwloc JSON INPUT: numaplace's nodes (OS numbers, memory)
# and CPUs are what hwloc's own tools read from the same capture: the nodes
# a cgroup disallowed included (numaplace places on the whole host), the
# CPUs those nodes cover (CPUs under no node are left out, see
# read_hwloc.c).
compare_with_hwloc() {
    local json=$1 input=$2 n i os mem ours theirs locs=""
    n=$(hwloc-info -i "$input" --disallowed 2>/dev/null | sed -n 's/.* \([0-9]*\) NUMANode .*/\1/p')
    [ "$(jq '.nodes | length' <<<"$json")" = "$n" ] || { echo "nodes: hwloc $n"; return 1; }
    for ((i = 0; i < n; i++)); do
        os=$(hwloc-info -i "$input" --disallowed "numa:$i" 2>/dev/null | sed -n 's/^ os index = //p')
        mem=$(hwloc-info -i "$input" --disallowed "numa:$i" 2>/dev/null |
            sed -n 's/^ local memory = //p')
        ours=$(jq ".nodes[] | select(.id == $os) | .memory_bytes" <<<"$json")
        [ "$ours" = "${mem:-0}" ] || { echo "node $os: memory $ours, hwloc ${mem:-0}"; return 1; }
        locs="$locs numa:$i"
    done
    ours=$(jq '[.nodes[].cpu_count] | add' <<<"$json")
    # shellcheck disable=SC2086
    theirs=$(hwloc-calc -i "$input" --disallowed --physical-output --intersect pu $locs |
        tr ',' '\n' | grep -c .)
    [ "$ours" = "$theirs" ] || { echo "CPUs: $ours, hwloc $theirs"; return 1; }
}

# Every hwloc 2 XML capture of tests/fixtures/hwloc (hwloc's test data of
# real machines, and lstopo's own export with empty bitmap words) reads to
# the nodes, memory and CPUs hwloc reads from it.
case_captures_match_hwloc() {
    local f json why2
    command -v hwloc-info >/dev/null || { echo "   (hwloc-info missing: skipped)"; return 0; }
    for f in "$FIX"/hwloc/xml-v2/*.xml "$FIX"/hwloc/xml/cxlmem+dax.v2.xml \
        "$FIX"/hwloc/handmade/*.xml; do
        json=$("$NP" topology --from "$f" --json 2>&1) || fail "${f##*/}: $json" || return
        why2=$(compare_with_hwloc "$json" "$f") || fail "${f##*/}: $why2" || return
        echo "   ${f##*/}: $(jq '.nodes | length' <<<"$json") nodes, $(jq '[.nodes[].cpu_count] | add' <<<"$json") CPUs, memory per node as hwloc"
    done
}

# Every captured /sys and /proc tree of tests/fixtures/hwloc/linux, read
# with --from sysfs:DIR, matches what lstopo reads from the same tree.
case_sysfs_captures_match_hwloc() {
    local tb d root json why2
    command -v lstopo-no-graphics >/dev/null || { echo "   (lstopo missing: skipped)"; return 0; }
    for tb in "$FIX"/hwloc/linux/*.tar.bz2; do
        d=$T/caps/$(basename "$tb" .tar.bz2)
        mkdir -p "$d"
        tar -xjf "$tb" -C "$d" || fail "tar ${tb##*/}" || return
        root=$(ls -d "$d"/*/ | head -1)
        root=${root%/}
        HWLOC_FSROOT=$root HWLOC_COMPONENTS=linux,stop lstopo-no-graphics --disallowed --of xml \
            >"$d.xml" 2>/dev/null || fail "lstopo on ${tb##*/}" || return
        json=$(HWLOC_COMPONENTS=linux,stop "$NP" topology --from "sysfs:$root" --json 2>&1) ||
            fail "${tb##*/}: $json" || return
        why2=$(compare_with_hwloc "$json" "$d.xml") || fail "${tb##*/}: $why2" || return
        echo "   ${tb##*/}: $(jq '.nodes | length' <<<"$json") nodes, $(jq '[.nodes[].cpu_count] | add' <<<"$json") CPUs, memory per node as lstopo"
    done
}

# capture DIR: hwloc's 16amd64-8n2c tree unpacked into DIR (its root).
capture() {
    mkdir -p "$1"
    tar -xjf "$FIX/hwloc/linux/16amd64-8n2c.tar.bz2" -C "$1" && mv "$1/16amd64-8n2c"/* "$1/"
}

case_sysfs_empty_node_dir() {
    local out rc
    capture "$T/sys-empty" || fail "tar" || return
    rm -rf "$T/sys-empty/sys/devices/system/node"/node*
    out=$(HWLOC_COMPONENTS=linux,stop "$NP" topology --from "sysfs:$T/sys-empty" 2>&1)
    rc=$?
    [ $rc -eq 2 ] || fail "rc $rc (134 = hwloc's assertion): $out" || return
    [[ $out == *"holds no NUMA node"* ]] || fail "message: $out" || return
}

case_sysfs_no_node_dir() {
    local out rc
    capture "$T/sys-none" || fail "tar" || return
    rm -rf "$T/sys-none/sys/devices/system/node" "$T/sys-none/sys/bus/node"
    out=$(HWLOC_COMPONENTS=linux,stop "$NP" topology --from "sysfs:$T/sys-none" 2>&1)
    rc=$?
    [ $rc -eq 0 ] || fail "rc $rc: $out" || return
    [[ $out == *"no node directory: one node"* ]] || fail "not said: $out" || return
    [[ $out == *"nodes    1"* ]] && [[ $out == *"cpus     16 logical"* ]] || fail "$out" || return
}

case_sysfs_capture() {
    local out
    mkdir -p "$T/cap"
    tar -xjf "$FIX/hwloc/linux/16amd64-8n2c.tar.bz2" -C "$T/cap" || fail "tar" || return
    out=$(HWLOC_COMPONENTS=linux,stop "$NP" topology --from "sysfs:$T/cap/16amd64-8n2c" 2>&1) ||
        fail "refused: $out" || return
    [[ $out == *"nodes    8"* ]] && [[ $out == *"cpus     16 logical"* ]] || fail "$out" || return
}

# ---- sizes and FIFOs -------------------------------------------------------------

case_sim_scenario_cap() {
    local f=$T/huge.json out rc
    printf '{"schema":"numaplace.sim-scenario/1","name":"huge","host":"gen:1024",' >"$f"
    printf '"duration_s":3600,"guests":[{"name":"g","count":20000,"vcpus":512,' >>"$f"
    printf '"memory_mib":1024}]}\n' >>"$f"
    # at most 1 GB of address space (ASan reserves terabytes: not there)
    out=$( (sanitized || ulimit -v 1000000; timeout 20 "$NP" bench --scenario "$f" --policy none) 2>&1)
    rc=$?
    [ $rc -eq 2 ] || fail "rc $rc (124: still running after 20 s): $out" || return
    [[ $out == *"$f:1: 20000 guests sampled 14400 times"*"too large a run"* ]] ||
        fail "message: $out" || return
}

case_fifo_topology() {
    local out rc t0
    mkfifo "$T/fifo"
    t0=$(ms_now)
    out=$(timeout 30 "$NP" topology --from "$T/fifo" 2>&1)
    rc=$?
    [ $rc -eq 2 ] || fail "rc $rc (124: blocked): $out" || return
    [[ $out == *"a FIFO nobody wrote to"* ]] || fail "message: $out" || return
    out=$("$NP" topology --from <(cat "$FIX/hwloc/handmade/2n-cxl-nvm.xml") 2>&1) ||
        fail "a pipe with data refused: $out" || return
}

case_fifo_sim_scenario() {
    local out rc
    mkfifo "$T/fifo2"
    out=$(timeout 30 "$NP" bench --scenario "$T/fifo2" --policy none 2>&1)
    rc=$?
    [ $rc -eq 2 ] || fail "rc $rc (124: blocked): $out" || return
}

all_cases=$(declare -F | sed -n 's/^declare -f case_//p')
want=${*:-$all_cases}
for name in $want; do
    why=""
    if "case_$name"; then
        echo "ok   $name"
        passed=$((passed + 1))
    else
        echo "FAIL $name: ${why:-failed}"
        failed=$((failed + 1))
    fi
done
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
