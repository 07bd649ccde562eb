# bench/mixes/mixjudge.py - the rule compare-peers.py and first-divergence.py judge a pair by:
# numaplace's row (n) against a peer's (q) from a `numaplace bench mixes --csv` file, each
# figure "worse" when higher by more than TOL (refusals: any more), "better" when lower.
TOL = 0.005
CRIT = ('final_rwd', 'mean_rwd', 'final_cpu_over', 'mean_cpu_over')
ADDED = ('final_coloc_dist', 'mean_coloc_dist', 'final_spread_shared', 'mean_spread_shared',
         'final_device_rwd', 'mean_device_rwd')
CONSTRAINT_MIXES = ('colocate', 'spread', 'devices')
PEERS = ['xl42', 'xapi', 'numad', 'least-loaded']


def judge(n, q, crits):
    """The criteria n is worse / better in than q (figures both rows have)."""
    bad = []; good = []
    for k in crits:
        if not (n.get(k) or '').strip() or not (q.get(k) or '').strip(): continue
        a, b = float(n[k]), float(q[k])
        if a > b + TOL: bad.append(f"{k} {a:.3f}>{b:.3f}")
        if a < b - TOL: good.append(f"{k} {a:.3f}<{b:.3f}")
    if int(n['refusals']) > int(q['refusals']): bad.append(f"refusals {n['refusals']}>{q['refusals']}")
    if int(n['refusals']) < int(q['refusals']): good.append(f"refusals {n['refusals']}<{q['refusals']}")
    return bad, good
