#!/usr/bin/env python3
# bench/mixes/compare-peers.py - issue 11 "must show" check over a `numaplace bench mixes --csv`
# file: per (host, mix), is numaplace worse than xl42/xapi/numad (every host) or
# least-loaded (hosts above 16 nodes) in final or mean rwd, final or mean worst CPU
# over-commit (by more than 0.005), or refusals; and memory above free.
# A pair where numaplace is worse is *dominated* when numaplace is better in none of
# those criteria, a *trade-off* when it is better in one (by more than 0.005, or
# fewer refusals). Usage:
#   compare-peers.py mixes.csv [-v]     (-v lists every losing pair and criterion,
#                                        marked D (dominated) or T (trade-off))
import csv, sys, collections
TOL = 0.005
CRIT = ('final_rwd', 'mean_rwd', 'final_cpu_over', 'mean_cpu_over')
rows = list(csv.DictReader(open(sys.argv[1])))
verbose = "-v" in sys.argv[2:]
by = collections.defaultdict(dict)
for r in rows: by[(r['host'], r['mix'])][r['policy']] = r
peers = ['xl42', 'xapi', 'numad', 'least-loaded']
ref = collections.Counter(); worse = collections.Counter(); crit = collections.Counter()
dominated = collections.Counter(); tradeoff = collections.Counter()
memover = collections.Counter()
for r in rows:
    ref[r['policy']] += int(r['refusals'])
    if float(r['final_mem_over_free']) > 1.0005: memover[r['policy']] += 1
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
            for b in bad: crit[(p, b.split()[0])] += 1
            if verbose:
                print('T' if good else 'D', h.split('/')[-1][:24], m[:16], p, '; '.join(bad),
                      ('| better: ' + '; '.join(good)) if good else '')
print('refusals', dict(ref)); print('pairs worse', dict(worse))
print('dominated', {p: dominated[p] for p in peers}); print('trade-off', {p: tradeoff[p] for p in peers})
print('mem>free final', dict(memover))
for k, v in sorted(crit.items()): print(' ', k, v)
