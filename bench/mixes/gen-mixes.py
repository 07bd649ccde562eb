#!/usr/bin/env python3
"""Writes the arrival/departure mixes of `numaplace bench mixes` (bench/mixes/*.json).

Deterministic: each mix draws from its own seeded generator, so running this again
writes the same files (the files are committed; this script says how they were made).
Every mix is sized for a reference host of MIX_REF_CPUS logical CPUs and MIX_REF_GIB GiB
in 4 nodes of 8 CPUs and 32 GiB (docs/placement.md); `bench mixes` replays several
interleaved copies of a mix on larger hosts so the load per CPU and per GiB stays the same.
Devices are placeholders: 0000:00:0N.0 stands for the host's N-th PCI device with a node.

    python3 bench/mixes/gen-mixes.py bench/mixes
    python3 bench/mixes/gen-mixes.py OUTDIR SEED   (other seeds: fresh mixes of the same
                                                    kinds, for a check on mixes not tuned to)
    python3 bench/mixes/gen-mixes.py OUTDIR SEED PREFIX   (file names start with PREFIX, so
                                                    mixes of several seeds can be replayed in
                                                    one run: compare-peers.py pairs rows by
                                                    host and file name)
"""
import json
import math
import os
import random
import sys

MIX_REF_CPUS = 32
MIX_REF_GIB = 128


def guest(name, vcpus, mem_gib, **kw):
    g = {"name": name, "vcpus": vcpus, "memory": "%dG" % mem_gib if mem_gib == int(mem_gib)
         else "%dM" % int(mem_gib * 1024)}
    g.update(kw)
    return g


def demand(r):
    return round(r.uniform(0.2, 1.0), 2)


def steady_fill(r):
    ev, mem, i = [], 0, 0
    while True:
        v = r.choice([1, 2, 2, 4, 4, 8])
        m = r.choice([2, 4, 4, 8, 8, 16])
        if mem + m > 0.9 * MIX_REF_GIB:
            break
        mem += m
        ev.append({"arrive": guest("fill%d" % i, v, m, demand=demand(r))})
        i += 1
    return "Guests of 1-8 vCPUs and 2-16 GiB arrive until 90% of the memory is taken; none leaves.", ev


def churn(r):
    ev, present, mem, i = [], [], 0, 0
    for step in range(160):
        if present and (mem > 0.75 * MIX_REF_GIB or r.random() < 0.45):
            g = present.pop(r.randrange(len(present)))
            mem -= g[1]
            ev.append({"depart": g[0]})
            continue
        v = r.choice([1, 2, 4, 4, 8])
        m = r.choice([2, 4, 8, 8, 16])
        name = "ch%d" % i
        i += 1
        present.append((name, m))
        mem += m
        ev.append({"arrive": guest(name, v, m, demand=demand(r))})
    return "160 events: arrivals and departures at random, memory held between about 50% and 75%.", ev


def big_wide(r):
    ev = []
    sizes = [(12, 40), (16, 48), (12, 36), (10, 44)]
    for i, (v, m) in enumerate(sizes):
        ev.append({"arrive": guest("big%d" % i, v, m, demand=demand(r))})
        if i == 1:
            ev.append({"depart": "big0"})
    for i in range(6):
        ev.append({"arrive": guest("small%d" % i, r.choice([1, 2]), r.choice([2, 4]), demand=demand(r))})
    return "Guests wider than a reference node (10-16 vCPUs on 8-CPU nodes, 36-48 GiB on 32 GiB nodes), one leaving, then small ones.", ev


def many_small(r):
    ev, i = [], 0
    for i in range(56):
        ev.append({"arrive": guest("s%d" % i, 1, r.choice([1, 1.5, 2]), demand=demand(r))})
        if i >= 30 and i % 3 == 0:
            ev.append({"depart": "s%d" % (i - 30)})
    return "56 one-vCPU guests of 1-2 GiB; from the 31st on every third arrival lets an early one leave.", ev


def groups_colocate(r):
    ev = []
    for grp in range(5):
        for j in range(3):
            ev.append({"arrive": guest("app%d-%d" % (grp, j), r.choice([2, 2, 4]), r.choice([4, 8]),
                                       group="app%d:colocate:80" % grp, demand=demand(r))})
    return "Five applications of three guests each that talk to each other (colocate groups, weight 80).", ev


def groups_spread(r):
    ev = []
    for grp in range(6):
        for j in range(2):
            ev.append({"arrive": guest("ha%d-%d" % (grp, j), 4, 8,
                                       group="ha%d:spread:90" % grp, demand=demand(r))})
    for i in range(4):
        ev.append({"arrive": guest("other%d" % i, 2, 4, demand=demand(r))})
    return "Six high-availability pairs kept apart (spread groups, weight 90), then four plain guests.", ev


def devices(r):
    ev = []
    for i in range(8):
        dev = "0000:00:%02x.0" % (i % 4)
        ev.append({"arrive": guest("io%d" % i, r.choice([2, 4]), r.choice([4, 8]), dev=dev,
                                   demand=demand(r))})
        ev.append({"arrive": guest("plain%d" % i, r.choice([1, 2, 4]), r.choice([2, 4, 8]),
                                   demand=demand(r))})
    return "Eight guests with a passthrough device (placeholder N = the host's N-th device with a node) between plain guests.", ev


def mixed_sizes(r):
    ev, present, mem, i = [], [], 0, 0
    for step in range(90):
        if present and (mem > 0.8 * MIX_REF_GIB or r.random() < 0.3):
            g = present.pop(r.randrange(len(present)))
            mem -= g[1]
            ev.append({"depart": g[0]})
            continue
        v = int(2 ** r.uniform(0, 4))
        m = max(1, int(2 ** r.uniform(0, 5.5)))
        name = "mx%d" % i
        i += 1
        present.append((name, m))
        mem += m
        ev.append({"arrive": guest(name, v, m, demand=demand(r))})
    return "Log-uniform sizes, 1-16 vCPUs and 1-45 GiB, with departures: a cloud host's spread of sizes.", ev


def overcommit(r):
    ev, vc, i = [], 0, 0
    while vc < 1.5 * MIX_REF_CPUS:
        v = r.choice([2, 4, 4, 6])
        ev.append({"arrive": guest("oc%d" % i, v, r.choice([2, 4]), demand=round(r.uniform(0.1, 0.5), 2))})
        vc += v
        i += 1
    return "vCPUs up to 1.5 times the CPUs, mostly idle (demand 0.1-0.5), memory about a third used.", ev


def balloon(r):
    ev = []
    for i in range(12):
        m = r.choice([4, 6, 8])
        ev.append({"arrive": guest("bl%d" % i, r.choice([2, 4]), m, maxmem="%dG" % (m * 2), demand=demand(r))})
    return "Twelve guests whose balloon maximum is twice their memory at start (head-room kept on their nodes).", ev


def cpuless(r):
    ev = []
    for i in range(14):
        ev.append({"arrive": guest("cx%d" % i, r.choice([2, 4]), r.choice([6, 8, 10]),
                                   **({"cpuless-memory": True} if i % 2 == 0 else {}),
                                   demand=demand(r))})
    return "Memory-heavy guests, half of which accept CPU-less (CXL/HBM) memory.", ev


def fragment(r):
    ev = []
    for i in range(16):
        ev.append({"arrive": guest("f%d" % i, 2, 6, demand=demand(r))})
    for i in range(0, 16, 2):
        ev.append({"depart": "f%d" % i})
    for i in range(3):
        ev.append({"arrive": guest("late%d" % i, 8, 24, demand=demand(r))})
    return "Fill with 16 equal guests, every second one leaves, then three guests of a node's size arrive into the holes.", ev


MIXES = [
    ("01-steady-fill", steady_fill), ("02-churn", churn), ("03-big-wide", big_wide),
    ("04-many-small", many_small), ("05-colocate", groups_colocate), ("06-spread", groups_spread),
    ("07-devices", devices), ("08-mixed-sizes", mixed_sizes), ("09-overcommit", overcommit),
    ("10-balloon", balloon), ("11-cpuless", cpuless), ("12-fragment", fragment),
]


def main():
    if len(sys.argv) < 2 or sys.argv[1] in ("-h", "--help"):
        print("usage: gen-mixes.py OUTDIR [SEED [PREFIX]]  (SEED 1000 and no prefix: the "
              "committed bench/mixes)", file=sys.stderr)
        sys.exit(2)
    out = sys.argv[1]
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    prefix = sys.argv[3] if len(sys.argv) > 3 else ""
    os.makedirs(out, exist_ok=True)
    for idx, (name, fn) in enumerate(MIXES):
        r = random.Random(seed + idx)
        desc, events = fn(r)
        doc = {"schema": "numaplace.scenario/1", "events": events}
        with open("%s/%s%s.json" % (out, prefix, name), "w") as f:
            f.write(json.dumps(doc, indent=1) + "\n")
        print("%s: %d events; %s" % (name, len(events), desc))


if __name__ == "__main__":
    main()
