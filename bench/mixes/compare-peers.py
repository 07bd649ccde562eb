#!/usr/bin/env python3
# bench/mixes/compare-peers.py - issue 11 "must show" check over a `numaplace bench mixes --csv`
# file: per (host, mix), is numaplace worse than xl42/xapi/numad (every host) or
# least-loaded (hosts above 16 nodes), and memory above free.
# Criteria, each "worse" when higher by more than 0.005 (refusals: any more):
#   standard (issue 11's): final and mean-over-arrivals remote-weighted distance,
#     final and mean-over-arrivals worst CPU over-commit (vCPUs / CPUs of a node), refusals;
#   added (what guests ask for, which the standard ones do not see; counted only where
#     both rows have the figure, i.e. the mix has such guests and the host device nodes):
#     final and mean colocate distance (mean SLIT/10 - 1 between colocate members' memory),
#     final and mean spread sharing (share of spread pairs with memory on a common node),
#     final and mean device distance (remote-weighted distance of device guests' vCPUs to
#     their devices' nodes).
# A pair where numaplace is worse is *dominated* when numaplace is better in none of the
# criteria (by more than 0.005, or fewer refusals), a *trade-off* when it is better in one.
# Both counts are printed: with the standard criteria alone (the measure; the
# figures before the added columns existed) and with the added ones, where "better in
# group distance, worse in CPU count" is a trade-off. Rows with empty standard figures (a
# policy that did not run on that host, e.g. the oracles above their node limit) are left
# out and counted. Dominated pairs are also given without the mixes whose guests ask for
# a group or a passthrough device (colocate, spread, devices), and without the pairs worse
# only in worst CPU counts at or below one vCPU per CPU on both sides (no over-commit by
# either, e.g. 0.50 against 0.25): counted apart so a reader can weigh them. Usage:
# Last, every policy against every other by the standard criteria (the same rule: worse
# in one, better in none, least-loaded only above 16 nodes): how often each is dominated,
# and by whom, so numaplace's count reads against the peers' own; the oracles too where
# the CSV has them (oracle-metrics: per arrival the best by the standard figures).
#   compare-peers.py mixes.csv [-v]     (-v lists every losing pair and criterion, marked
#                                        D (dominated) or T (trade-off), by all criteria;
#                                        "std D" marks a pair dominated by the standard ones)
import csv, sys, collections, os
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mixjudge import CRIT, ADDED, CONSTRAINT_MIXES, PEERS, judge
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
peers = PEERS
ref = collections.Counter(); memover = collections.Counter()
sums = collections.defaultdict(lambda: collections.Counter()); npairs = collections.Counter()
for r in rows:
    ref[r['policy']] += int(r['refusals'])
    if float(r['final_mem_over_free']) > 1.0005: memover[r['policy']] += 1
    npairs[r['policy']] += 1
    for k in CRIT: sums[r['policy']][k] += float(r[k])

def tally(crits, verbose):
    worse = collections.Counter(); crit = collections.Counter()
    dominated = collections.Counter(); tradeoff = collections.Counter()
    dom_free = collections.Counter(); dom_below1 = collections.Counter()
    for (h, m), d in sorted(by.items()):
        n = d.get('numaplace')
        if not n: continue
        for p in peers:
            if p not in d: continue
            if p == 'least-loaded' and int(n['nodes']) <= 16: continue
            bad, good = judge(n, d[p], crits)
            if not bad: continue
            worse[p] += 1
            (tradeoff if good else dominated)[p] += 1
            if not good and not any(c in m for c in CONSTRAINT_MIXES): dom_free[p] += 1
            if not good and all(k.endswith('cpu_over') and float(n[k]) <= 1.0
                                for k in (b.split()[0] for b in bad)): dom_below1[p] += 1
            for b in bad: crit[(p, b.split()[0])] += 1
            if verbose:
                sb, sg = judge(n, d[p], CRIT)
                print('T' if good else 'D', 'std D' if sb and not sg else 'std T' if sb else 'std -',
                      h.split('/')[-1][:24], m[:16], p, '; '.join(bad),
                      ('| better: ' + '; '.join(good)) if good else '')
    return worse, dominated, tradeoff, dom_free, dom_below1, crit

if skipped: print('rows left out (empty figures):', skipped)
print('refusals', dict(ref))
for title, crits in (('standard criteria (issue 11)', CRIT),
                     ('standard + added group/device criteria', CRIT + ADDED)):
    worse, dominated, tradeoff, dom_free, dom_below1, crit = tally(crits, verbose and crits != CRIT)
    print(f'-- {title}')
    print('pairs worse', {p: worse[p] for p in peers}, 'total', sum(worse.values()))
    print('dominated', {p: dominated[p] for p in peers}, 'total', sum(dominated.values()))
    print('trade-off', {p: tradeoff[p] for p in peers}, 'total', sum(tradeoff.values()))
    print('dominated outside colocate/spread/devices mixes', {p: dom_free[p] for p in peers})
    print('dominated only in CPU counts <= 1 vCPU/CPU', {p: dom_below1[p] for p in peers})
    for k, v in sorted(crit.items()): print(' ', k, v)
print('mem>free final', dict(memover))
print('means over pairs: ' + ', '.join(CRIT))
for p, c in sorted(npairs.items()):
    print(f"  {p:14s} {c:4d} " + ' '.join(f"{sums[p][k] / c:.4f}" for k in CRIT))

# Every policy against every other (standard criteria).
order = [p for p in ['numaplace'] + peers + ['oracle-metrics', 'oracle'] if npairs[p]]
dom_by = collections.Counter(); dom_any = collections.Counter(); compared = collections.Counter()
for (h, m), d in sorted(by.items()):
    for p in order:
        if p not in d: continue
        hit = seen = False
        for q in order:
            if q == p or q not in d: continue
            if 'least-loaded' in (p, q) and int(d[p]['nodes']) <= 16: continue
            seen = True
            bad, good = judge(d[p], d[q], CRIT)
            if bad and not good:
                dom_by[(p, q)] += 1; hit = True
        compared[p] += seen; dom_any[p] += hit
print('dominated by (row: the policy; column: the one dominating it; least-loaded above 16 nodes)')
print('  ' + ' ' * 14 + ''.join(f"{q:>15s}" for q in order) + '  by any / pairs')
for p in order:
    print(f"  {p:14s}" + ''.join(f"{(dom_by[(p, q)] if q != p else '-'):>15}" for q in order)
          + f"  {dom_any[p]} / {compared[p]}")
