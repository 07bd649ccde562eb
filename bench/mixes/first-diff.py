#!/usr/bin/env python3
# bench/mixes/first-diff.py - where a dominated pair begins. For every (host, mix, peer)
# that compare-peers.py calls dominated by the standard criteria (numaplace worse in
# some figure, better in none), replays numaplace and the peer with `bench mixes --trace`
# and finds the first arrival where their choices differ. The states before it are the
# same, so the two choices at it can be compared directly by the guest's distance and
# the host's worst vCPUs per CPU after it; the arrival is classed
#   worse     numaplace worse in one, better in neither
#   tradeoff  worse in one, better in the other
#   equal     equal in both (a tie; "mirror" when the sorted vCPUs per node are equal)
#   better    better in one, worse in neither
#   refusal   one of them refused the guest.
# Usage (from the source tree's top; MIXDIR holds the CSV's mix files):
#   first-diff.py MIXES.csv MIXDIR [BUILD_DIR] [--sample N]
# --sample N looks at N pairs drawn with a fixed seed. docs/placement.md, "Dominated in
# CPU count (session 11)", has the figures.
import collections, csv, random, re, subprocess, sys

TOL = 0.005      # compare-peers.py's: a figure is worse when higher by more than this
EXACT = 1e-6     # at one arrival the two choices are compared as printed (3 decimals)
CRIT = ('final_rwd', 'mean_rwd', 'final_cpu_over', 'mean_cpu_over')
PEERS = ('xl42', 'xapi', 'numad', 'least-loaded')
LINE = re.compile(r'^\S+ \S+ (\S+) (\d+) (\S+) (.*) rwd (\S+) host_cpu (\S+) '
                  r'host_rwd \S+ vcpus (\S+)$')

def dominated_pairs(path):
    by = collections.defaultdict(dict)
    with open(path) as f:
        for r in csv.DictReader(f):
            if all((r.get(k) or '').strip() for k in CRIT + ('refusals',)):
                by[(r['host'], r['mix'])][r['policy']] = r
    out = []
    for (h, m), d in sorted(by.items()):
        n = d.get('numaplace')
        for p in PEERS:
            if not n or p not in d or (p == 'least-loaded' and int(n['nodes']) <= 16):
                continue
            q = d[p]
            bad = [k for k in CRIT if float(n[k]) > float(q[k]) + TOL]
            good = [k for k in CRIT if float(n[k]) < float(q[k]) - TOL]
            if int(n['refusals']) != int(q['refusals']):
                (bad if int(n['refusals']) > int(q['refusals']) else good).append('refusals')
            if bad and not good:
                out.append((h, m, p, bad))
    return out

def trace(build, host, mix, policy):
    run = subprocess.run([build + '/numaplace', 'bench', 'mixes', '--host', host, '--mix', mix,
                          '--policy', policy, '--trace', '-'],
                         capture_output=True, text=True, check=True)
    steps = []
    for line in run.stdout.splitlines():
        m = LINE.match(line)
        if m and m.group(1) == policy:
            steps.append({'name': m.group(3), 'where': m.group(4), 'rwd': float(m.group(5)),
                          'cpu': float(m.group(6)),
                          'vcpus': [float(x) for x in m.group(7).split(',')]})
    return steps

def classify(a, b):
    if 'refused' in (a['where'], b['where']):
        return 'refusal'
    worse = a['cpu'] > b['cpu'] + EXACT or a['rwd'] > b['rwd'] + EXACT
    better = a['cpu'] < b['cpu'] - EXACT or a['rwd'] < b['rwd'] - EXACT
    if worse:
        return 'tradeoff' if better else 'worse'
    if better:
        return 'better'
    return 'equal mirror' if sorted(a['vcpus']) == sorted(b['vcpus']) else 'equal'

def main(argv):
    args = [a for a in argv if not a.startswith('--')]
    if len(args) < 2:
        sys.exit('usage: first-diff.py MIXES.csv MIXDIR [BUILD_DIR] [--sample N]')
    build = args[2] if len(args) > 2 else 'build'
    pairs = dominated_pairs(args[0])
    if '--sample' in argv:
        n = int(argv[argv.index('--sample') + 1])
        pairs = sorted(random.Random(11).sample(pairs, min(n, len(pairs))))
    count = collections.Counter()
    for host, mix, peer, bad in pairs:
        a = trace(build, host, args[1] + '/' + mix, 'numaplace')
        b = trace(build, host, args[1] + '/' + mix, peer)
        k = next((i for i in range(min(len(a), len(b))) if a[i]['where'] != b[i]['where']), None)
        label = f"{host.split('/')[-1]} {mix} {peer} ({', '.join(bad)})"
        if k is None:
            count['same'] += 1
            print(f'{label}: no arrival differs')
            continue
        c = classify(a[k], b[k])
        count[c] += 1
        print(f'{label}: arrival {k} ({a[k]["name"]}) {c}')
        for who, s in (('numaplace', a[k]), (peer, b[k])):
            print(f'  {who:12s} {s["where"]} rwd {s["rwd"]:.3f} host worst {s["cpu"]:.3f}')
    print('classes', dict(sorted(count.items())), 'of', len(pairs))

if __name__ == '__main__':
    main(sys.argv[1:])
