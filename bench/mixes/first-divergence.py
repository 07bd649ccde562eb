#!/usr/bin/env python3
# bench/mixes/first-divergence.py - where does numaplace part from a peer that dominates it?
#
# For every (host, mix, peer) that compare-peers.py counts as dominated by the standard
# criteria (numaplace worse in some figure, better in none), replay the pair with
# `numaplace bench mixes --trace` and find the first arrival where the two policies place
# the guest differently. Before it the two host states are the same, so the two decisions
# there are comparable: each is judged by the guest's own remote-weighted distance and the
# host's worst vCPUs per CPU after it (the trace's `rwd` and `host_cpu`), and the pair is
# put in one class:
#   better     numaplace's decision no worse in both, better in one (the loss comes later)
#   equal      the same two figures on different nodes (a tie; the loss is history)
#   trade-off  numaplace lower in one figure, higher in the other
#   worse      numaplace higher in one, lower in neither (a decision the count guard kept),
#              counted again by why the guard keeps such decisions: in a mix whose guests
#              ask for a group or a device (colocate, spread, devices: a term the
#              standard figures do not see), or higher only in a count at or below one
#              vCPU per CPU on both sides (below it the guard leaves the choice to the
#              objective, which balances demand, not vCPUs), or neither
#   refusal    one of the two refused the guest, the other placed it
#   none       the replays never part (the figures differ only below the tolerance)
# The same arrival is also counted in a table of distance (numaplace more local, equal,
# less local) against host worst count (lower, equal, higher).
# --select farther takes, instead of the dominated pairs, those where the peer ends more
# local (final rwd lower by more than 0.005) whatever the other figures; --peer P (repeat)
# keeps only those peers.
# Usage (from the top of a checkout, after a `bench mixes --csv` run):
#   first-divergence.py MIXES.csv --mixdir DIR [--mixdir DIR ...] [--numaplace BINARY]
#                       [--select dominated|farther] [--peer P]... [-v]
# DIR holds the mix files the CSV names, where the CSV names no file that exists
# (bench/mixes for the default run; a directory
# written by gen-mixes.py for the held-out sets: `gen-mixes.py DIR SEED SEED-`).
# -v prints one line per pair: host, mix, peer, class, arrival, both decisions.
import argparse, collections, csv, os, subprocess, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mixjudge import TOL, CRIT, PEERS, CONSTRAINT_MIXES, judge

EPS = 0.0005   # the trace prints three decimals


def dominated(n, q):
    bad, good = judge(n, q, CRIT)
    return bool(bad) and not good


def parse_trace(text, policy):
    """Arrivals of one policy: (index, guest, placement, rwd, host_cpu)."""
    out = []
    for line in text.splitlines():
        t = line.split()
        if len(t) < 11 or t[2] != policy:
            continue
        kv = dict(zip(t[6::2], t[7::2]))
        out.append((int(t[3]), t[4], t[5], float(kv['rwd']), float(kv['host_cpu'])))
    return out


def classify(a, b):
    """a: numaplace's arrival, b: the peer's, from the same host state."""
    if (a[2] == 'refused') != (b[2] == 'refused'):
        return 'refusal'
    dr, dc = a[3] - b[3], a[4] - b[4]
    lower = dr < -EPS or dc < -EPS
    higher = dr > EPS or dc > EPS
    if lower and higher:
        return 'trade-off'
    if higher:
        return 'worse'
    if lower:
        return 'better'
    return 'equal'


def sign(x):
    return -1 if x < -EPS else 1 if x > EPS else 0


def find_mix(name, dirs):
    if os.path.exists(name):
        return name
    for d in dirs:
        p = os.path.join(d, os.path.basename(name))
        if os.path.exists(p):
            return p
    return None


def main():
    ap = argparse.ArgumentParser(description='where numaplace parts from a peer that dominates it')
    ap.add_argument('csv')
    ap.add_argument('--mixdir', action='append', default=[])
    ap.add_argument('--numaplace', default=os.path.join('build', 'numaplace'))
    ap.add_argument('--select', choices=('dominated', 'farther'), default='dominated')
    ap.add_argument('--peer', action='append', choices=PEERS)
    ap.add_argument('-v', action='store_true')
    o = ap.parse_args()
    with open(o.csv) as f:
        rows = [r for r in csv.DictReader(f) if all((r.get(k) or '').strip() for k in CRIT)]
    by = collections.defaultdict(dict)
    for r in rows:
        by[(r['host'], r['mix'])][r['policy']] = r
    counts = collections.Counter()
    per_peer = collections.defaultdict(collections.Counter)
    missing = 0
    worse_pairs = []
    grid = collections.Counter()
    for (h, m), d in sorted(by.items()):
        n = d.get('numaplace')
        if not n:
            continue
        for p in PEERS:
            if p not in d or (p == 'least-loaded' and int(n['nodes']) <= 16):
                continue
            if o.peer and p not in o.peer:
                continue
            if o.select == 'dominated' and not dominated(n, d[p]):
                continue
            if o.select == 'farther' and not float(n['final_rwd']) > float(d[p]['final_rwd']) + TOL:
                continue
            mix = find_mix(m, o.mixdir)
            if not mix:
                missing += 1
                continue
            cmd = [o.numaplace, 'bench', 'mixes', '--host', h, '--mix', mix,
                   '--policy', 'numaplace', '--policy', p, '--csv', '--trace', '-']
            res = subprocess.run(cmd, capture_output=True, text=True)
            if res.returncode != 0:
                sys.exit(f"first-divergence.py: {' '.join(cmd)}: {res.stderr.strip()}")
            a, b = parse_trace(res.stdout, 'numaplace'), parse_trace(res.stdout, p)
            cls, at = 'none', None
            for x, y in zip(a, b):
                if x[2] != y[2]:
                    cls, at = classify(x, y), (x, y)
                    break
            counts[cls] += 1
            if at and cls != 'refusal':
                grid[(sign(at[0][3] - at[1][3]), sign(at[0][4] - at[1][4]))] += 1
            if cls == 'worse':
                worse_pairs.append((h, m, p, cls, at))
            per_peer[p][cls] += 1
            if o.v:
                where = (f"arrival {at[0][0]} {at[0][1]}: numaplace {at[0][2]} rwd {at[0][3]:.3f} "
                         f"host_cpu {at[0][4]:.3f} | {p} {at[1][2]} rwd {at[1][3]:.3f} "
                         f"host_cpu {at[1][4]:.3f}") if at else ''
                print(f"{cls:9s} {h.split('/')[-1][:28]:28s} {os.path.basename(m)[:22]:22s} {p:12s} {where}")
    why = collections.Counter()
    for (h, m, p, cls, at) in worse_pairs:
        a, b = at
        if any(c in m for c in CONSTRAINT_MIXES):
            why['group/device mix'] += 1
        elif abs(a[3] - b[3]) <= EPS and a[4] <= 1.0 + EPS and b[4] <= 1.0 + EPS:
            why['count <= 1'] += 1
        else:
            why['other'] += 1
    if missing:
        print(f"pairs whose mix file was not found in --mixdir: {missing}")
    order = ('better', 'equal', 'trade-off', 'worse', 'refusal', 'none')
    what = 'dominated pairs' if o.select == 'dominated' else 'pairs where the peer ends more local'
    print(f"{what} by numaplace's decision at the first arrival where they part:")
    print('  all ' + ' '.join(f"{c} {counts[c]}" for c in order) + f"  (total {sum(counts.values())})")
    if worse_pairs:
        print('  worse: ' + ', '.join(f"{k} {why[k]}" for k in ('group/device mix', 'count <= 1', 'other')))
    for p in PEERS:
        if per_peer[p]:
            print(f"  {p:12s} " + ' '.join(f"{c} {per_peer[p][c]}" for c in order))
    print('  the same arrivals, numaplace against the peer (refusals left out):')
    print('    %-16s %11s %8s %8s' % ('', 'count lower', 'equal', 'higher'))
    for r, name in ((-1, 'more local'), (0, 'equal distance'), (1, 'less local')):
        print('    %-16s %11d %8d %8d' % (name, grid[(r, -1)], grid[(r, 0)], grid[(r, 1)]))


if __name__ == '__main__':
    main()
