#!/usr/bin/env python3
# bench/mixes/first-diff.py BUILD_DIR [PEER] < PAIRS - where numaplace's replay of a mix first
# parts from a peer's (default xapi), and which was more local at that arrival.
# PAIRS: one "HOST<TAB>MIX_FILE" a line (hosts as `bench mixes --host` takes them). For each,
# both policies are replayed with `bench mixes --trace -` (same copies as a `bench mixes`
# run on that host) and the first arrival whose trace lines differ is printed with both
# lines, classed by the guest's remote-weighted distance there: np-more-local, equal
# (within 0.0005), np-less-local, or refusal; then whether numaplace's host worst vCPUs
# per CPU after it was lower, equal or higher. docs/placement.md, "Where xapi is more
# local (session 11)", has the counts.
import subprocess
import sys

EPS = 5e-4


def replay(build, host, mix, peer):
    out = subprocess.run([build + "/numaplace", "bench", "mixes", "--host", host, "--mix", mix,
                          "--policy", "numaplace", "--policy", peer, "--trace", "-"],
                         capture_output=True, text=True, check=True).stdout
    rows = {"numaplace": [], peer: []}
    for line in out.splitlines():
        f = line.split()
        if len(f) > 4 and f[2] in rows and f[3].isdigit():
            rows[f[2]].append(f)
    return rows["numaplace"], rows[peer]


def figure(f, key):
    return None if "refused" in f else float(f[f.index(key) + 1])


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: first-diff.py BUILD_DIR [PEER] < PAIRS")
    build = sys.argv[1]
    peer = sys.argv[2] if len(sys.argv) > 2 else "xapi"
    for line in sys.stdin:
        if not line.strip():
            continue
        host, mix = line.split()
        a, b = replay(build, host, mix, peer)
        name = mix.rsplit("/", 1)[-1]
        for i, (x, y) in enumerate(zip(a, b)):
            if x[4:] == y[4:]:
                continue
            rn, rp = figure(x, "rwd"), figure(y, "rwd")
            cn, cp = figure(x, "host_cpu"), figure(y, "host_cpu")
            if rn is None or rp is None:
                cls, cnt = "refusal", "-"
            else:
                cls = "equal" if abs(rn - rp) < EPS else "np-more-local" if rn < rp else "np-less-local"
                cnt = "count-equal" if abs(cn - cp) < EPS else "np-count-lower" if cn < cp else "np-count-higher"
            print(f"{cls}\t{cnt}\t{host}\t{name}\tarrival {i}\trwd {rn} vs {rp}\tcount {cn} vs {cp}")
            print("    numaplace", " ".join(x[4:]))
            print("    " + peer, " ".join(y[4:]))
            break
        else:
            print(f"no-difference\t-\t{host}\t{name}")


main()
