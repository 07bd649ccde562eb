#!/usr/bin/env python3
# bench/mixes/compare-peers.py - issue 11 "must show" check over a `numaplace bench mixes --csv`
# file: per (host, mix), is numaplace worse than xl42/xapi/numad (every host) or
# least-loaded (hosts above 16 nodes) in final or mean rwd, final or mean worst CPU
# over-commit (by more than 0.005), or refusals; and memory above free.
# A pair where numaplace is worse is *dominated* when numaplace is better in none of
# those criteria, a *trade-off* when it is better in one (by more than 0.005, or
# fewer refusals). Rows with empty figures (a policy that did not run on that host,
# e.g. the oracles above their node limit) are left out and counted.
# Dominated pairs are also given without the mixes whose guests ask for a group or a
# passthrough device (colocate, devices): the metrics see neither, and numaplace
# honours both where the peers ignore them; and without the pairs worse only in worst
# CPU counts at or below one vCPU per CPU on both sides (no over-commit by either,
# e.g. 0.50 against 0.25): counted apart so a reader can weigh them. Usage:
#   compare-peers.py mixes.csv [-v]     (-v lists every losing pair and criterion,
#                                        marked D (dominated) or T (trade-off))
import csv, sys, collections
TOL = 0.005
CRIT = ('final_rwd', 'mean_rwd', 'final_cpu_over', 'mean_cpu_over')
CONSTRAINT_MIXES = ('colocate', 'devices')
if len(sys.argv) < 2:
    sys.exit("usage: compare-peers.py mixes.csv [-v]")
with open(sys.argv[1]) as f:
    allrows = list(csv.DictReader(f))
need = CRIT + ('refusals', 'final_mem_over_free')
rows = [r for r in allrows if all((r.get(k) or '').strip() for k in need)]
skipped = len(allrows) - len(rows)
verbose = "-v" in sys.argv[2:]
by = collections.defaultdict(dict)
for r in rows: by[(r['host'], r['mix'])][r['policy']] = r
peers = ['xl42', 'xapi', 'numad', 'least-loaded']
ref = collections.Counter(); worse = collections.Counter(); crit = collections.Counter()
dominated = collections.Counter(); tradeoff = collections.Counter()
dom_free = collections.Counter()
dom_below1 = collections.Counter()
memover = collections.Counter()
sums = collections.defaultdict(lambda: collections.Counter()); npairs = collections.Counter()
for r in rows:
    ref[r['policy']] += int(r['refusals'])
    if float(r['final_mem_over_free']) > 1.0005: memover[r['policy']] += 1
    npairs[r['policy']] += 1
    for k in CRIT: sums[r['policy']][k] += float(r[k])
for (h, m), d in sorted(by.items()):
    n = d.get('numaplace')
    if not n: continue
    for p in peers:
        if p not in d: continue
        if p == 'least-loaded' and int(n['nodes']) <= 16: continue
        q = d[p]; bad = []; good = []
        for k in CRIT:
            a, b = float(n[k]), float(q[k])
            if a > b + TOL: bad.append(f"{k} {a:.3f}>{b:.3f}")
            if a < b - TOL: good.append(f"{k} {a:.3f}<{b:.3f}")
        if int(n['refusals']) > int(q['refusals']): bad.append(f"refusals {n['refusals']}>{q['refusals']}")
        if int(n['refusals']) < int(q['refusals']): good.append(f"refusals {n['refusals']}<{q['refusals']}")
        if bad:
            worse[p] += 1
            (tradeoff if good else dominated)[p] += 1
            if not good and not any(c in m for c in CONSTRAINT_MIXES): dom_free[p] += 1
            if not good and all(k.endswith('cpu_over') and float(n[k]) <= 1.0
                                for k in (b.split()[0] for b in bad)): dom_below1[p] += 1
            for b in bad: crit[(p, b.split()[0])] += 1
            if verbose:
                print('T' if good else 'D', h.split('/')[-1][:24], m[:16], p, '; '.join(bad),
                      ('| better: ' + '; '.join(good)) if good else '')
if skipped: print('rows left out (empty figures):', skipped)
print('refusals', dict(ref)); print('pairs worse', dict(worse))
print('dominated', {p: dominated[p] for p in peers}); print('trade-off', {p: tradeoff[p] for p in peers})
print('dominated outside colocate/devices mixes', {p: dom_free[p] for p in peers})
print('dominated only in CPU counts <= 1 vCPU/CPU', {p: dom_below1[p] for p in peers})
print('mem>free final', dict(memover))
print('means over pairs: ' + ', '.join(CRIT))
for p, c in sorted(npairs.items()):
    print(f"  {p:14s} {c:4d} " + ' '.join(f"{sums[p][k] / c:.4f}" for k in CRIT))
for k, v in sorted(crit.items()): print(' ', k, v)
