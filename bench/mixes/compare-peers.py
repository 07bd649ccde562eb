#!/usr/bin/env python3
# bench/mixes/compare-peers.py - issue 11 "must show" check over a `numaplace bench mixes --csv`
# file: per (host, mix), is numaplace worse than xl42/xapi/numad (every host) or
# least-loaded (hosts above 16 nodes) in final or mean rwd, final or mean worst CPU
# over-commit (by more than 0.005), or refusals; and memory above free. Usage:
#   compare-peers.py mixes.csv [-v]     (-v lists every losing pair and criterion)
import csv, sys, collections
rows=list(csv.DictReader(open(sys.argv[1])))
verbose="-v" in sys.argv[2:]
by=collections.defaultdict(dict)
for r in rows: by[(r['host'],r['mix'])][r['policy']]=r
peers=['xl42','xapi','numad','least-loaded']
ref=collections.Counter(); worse=collections.Counter(); crit=collections.Counter()
memover=collections.Counter()
for r in rows:
    ref[r['policy']]+=int(r['refusals'])
    if float(r['final_mem_over_free'])>1.0005: memover[r['policy']]+=1
for (h,m),d in sorted(by.items()):
    n=d.get('numaplace')
    if not n: continue
    for p in peers:
        if p not in d: continue
        if p=='least-loaded' and int(n['nodes'])<=16: continue
        q=d[p]; bad=[]
        for k,tol in (('final_rwd',0.005),('mean_rwd',0.005),('final_cpu_over',0.005),('mean_cpu_over',0.005)):
            if float(n[k])>float(q[k])+tol: bad.append(f"{k} {float(n[k]):.3f}>{float(q[k]):.3f}")
        if int(n['refusals'])>int(q['refusals']): bad.append(f"refusals {n['refusals']}>{q['refusals']}")
        if bad:
            worse[p]+=1
            for b in bad: crit[(p,b.split()[0])]+=1
            if verbose: print(h.split('/')[-1][:24],m[:16],p,'; '.join(bad))
print('refusals',dict(ref)); print('pairs worse',dict(worse)); print('mem>free final',dict(memover))
for k,v in sorted(crit.items()): print(' ',k,v)
