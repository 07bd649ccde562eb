#!/usr/bin/env bash
# placement-table.sh BUILD_DIR [OUT.md] - the same configs created on an
# emulated 4-node Xen 4.17 host by plain `xl create` and by `numaplace
# create`, side by side (issue 15): nodes, hard/soft affinity, memory per
# node from debug key u, `numaplace verify`'s verdict (a guest xl created
# has no plan: verify checks it against its own affinity) and two standard
# metrics per guest:
#   remote-weighted distance = mean over the guest's vCPUs of
#       sum over nodes m of share(m) * (SLIT(vCPU's node, m) / 10 - 1)
#   local fraction          = mean over the guest's vCPUs of share(vCPU's node)
# where share(m) is the guest's fraction of pages on node m and a vCPU's
# node is where its affinity points (soft & hard, else hard; several nodes
# are averaged). Lower distance and higher local fraction are better.
# Writes OUT.md (default docs/xen-placement.md) and prints it.
#
# Guests with disk= or vif= are left out: on this test host the block and
# vif-bridge hotplug scripts time out under plain `xl create` (176 s and
# 493 s, "unable to add disk devices"; docs/xen.md), and numaplace create
# runs that same xl.
#
# Host: 4 nodes x 2 CPUs x 1 GiB, distances 10/20/30, dom0 1 GiB. The
# configs run in groups that fit the host together; per group: xl create
# each, record, destroy; numaplace create each, record, destroy. About
# 10-15 minutes under TCG. Exit 77 when the host cannot boot Xen.
set -u
build=${1:?usage: placement-table.sh BUILD_DIR [OUT.md]}
here=$(cd "$(dirname "$0")" && pwd)
out_md=${2:-$here/../../docs/xen-placement.md}

dom0_script=$(mktemp)
trap 'rm -f "$dom0_script"' EXIT
cat >"$dom0_script" <<'DOM0'
mk() { # mk NAME TYPE VCPUS MEMORY_MIB [EXTRA LINE]...
    n=$1 t=$2 v=$3 m=$4
    shift 4
    { printf 'name="%s"\ntype="%s"\nkernel="/guest/vmlinuz"\nramdisk="/guest/initrd.gz"\nextra="console=hvc0"\nvcpus=%s\nmemory=%s\n' "$n" "$t" "$v" "$m"
      for l in "$@"; do printf '%s\n' "$l"; done; } >"/tmp/$n.cfg"
    echo "@@config $n $t ${v}vcpu ${m}MiB $*"
}
mk pv1 pv 2 256
mk pv2 pv 2 256
mk pvh4 pvh 4 512
mk cpus pv 2 128 'cpus="6-7"'
mk soft pv 2 128 'cpus_soft="4-5"'
mk maxm pv 1 128 'maxmem=256'
mk vn2 pvh 2 256 'vnuma=[ ["pnode=0","size=128","vcpus=0","vdistances=10,20"], ["pnode=1","size=128","vcpus=1","vdistances=20,10"] ]'
mk vn3 pvh 3 384 'vnuma=[ ["pnode=1","size=128","vcpus=0","vdistances=10,20,30"], ["pnode=2","size=128","vcpus=1","vdistances=20,10,20"], ["pnode=3","size=128","vcpus=2","vdistances=30,20,10"] ]'
mk vn4 pvh 4 512 'vnuma=[ ["pnode=0","size=128","vcpus=0","vdistances=10,20,30,30"], ["pnode=1","size=128","vcpus=1","vdistances=20,10,20,30"], ["pnode=2","size=128","vcpus=2","vdistances=30,20,10,20"], ["pnode=3","size=128","vcpus=3","vdistances=30,30,20,10"] ]'
mk bigh pvh 4 1280
mk bigp pv 2 1152
echo "@@info"; xl info -n
report() { # report MODE GROUP: domains, vCPU affinities, u dump, verify
    xl debug-keys u
    echo "@@list $1"; xl list | awk 'NR > 1 && $1 != "Domain-0"'
    echo "@@vcpus $1"; xl vcpu-list | awk 'NR > 1 && $1 != "Domain-0"'
    echo "@@dump $1"
    xl dmesg | awk "/'u' pressed/ { buf = \"\" } { buf = buf \$0 \"\\n\" } END { printf \"%s\", buf }"
    for g in $2; do
        xl domid "$g" >/dev/null 2>&1 || continue
        ./numaplace verify "$g" >"/tmp/v-$g.log" 2>&1; v=$?
        echo "@@verdict $1 $g $v"
        echo "@@verify $1 $g"; cat "/tmp/v-$g.log"
    done
}
group() { # group GUESTS...
    for g in "$@"; do
        t0=$(date +%s); xl create "/tmp/$g.cfg" >"/tmp/xl-$g.log" 2>&1; rc=$?
        echo "@@create xl $g rc=$rc $(($(date +%s) - t0))s"; [ $rc = 0 ] || sed 's/^/    /' "/tmp/xl-$g.log" | tail -n 6
    done
    report xl "$*"
    for g in "$@"; do xl destroy "$g" 2>/dev/null; done
    sleep 2
    for g in "$@"; do
        t0=$(date +%s); ./numaplace create "/tmp/$g.cfg" >"/tmp/np-$g.log" 2>&1; rc=$?
        echo "@@create numaplace $g rc=$rc $(($(date +%s) - t0))s"; sed 's/^/    /' "/tmp/np-$g.log"
    done
    report numaplace "$*"
    for g in "$@"; do xl destroy "$g" 2>/dev/null; done
    sleep 2
}
group pv1 pv2 pvh4 cpus soft maxm
group vn2 vn3 vn4
group bigh
group bigp
echo "@@end"
DOM0

start=$(date +%s)
out=$("$here/xen-host.sh" -n 4 -c 2 -m 1024 -t 2400 -b "$build" \
    -d "dom0_mem=1024M,max:1024M dom0_max_vcpus=2" "$dom0_script")
rc=$?
secs=$(($(date +%s) - start))
[ $rc = 77 ] && { echo "SKIP: the Xen test host cannot boot here"; exit 77; }
printf '%s\n' "$out"
[ $rc = 0 ] || { echo "xen-host.sh exit $rc"; exit 1; }

# Every line of a section (sections repeat per group: all are joined).
sections() { printf '%s\n' "$out" | awk -v s="@@$1" '/^@@/ { on = ($0 == s); next } on'; }

# One row per guest: nodes (>= 10% of its pages), affinity, MiB per node,
# verify's verdict, remote-weighted distance, local fraction.
rows() { # rows MODE
    { sections info | sed 's/^/I /'; sections "list $1" | sed 's/^/L /'
      sections "vcpus $1" | sed 's/^/V /'; sections "dump $1" | sed 's/^/D /'
      printf '%s\n' "$out" | sed -n "s/^@@verdict $1 /R /p"; } | awk '
        function expand(list, set,   n, parts, i, a, b, c) {
            delete set
            if (list == "all") { for (c in cpunode) set[c] = 1; return }
            n = split(list, parts, ",")
            for (i = 1; i <= n; i++) {
                if (split(parts[i], ab, "-") == 2) { a = ab[1] + 0; b = ab[2] + 0 } else { a = b = parts[i] + 0 }
                for (c = a; c <= b; c++) set[c] = 1
            }
        }
        $1 == "I" && $2 ~ /^[0-9]+:$/ && NF == 5 && $5 !~ /,/ { cpunode[$2 + 0] = $5 + 0 }
        $1 == "I" && $2 ~ /^[0-9]+:$/ && $NF ~ /,/ { k = $2 + 0; nd = split($NF, ds, ",")
                                                     for (j = 1; j <= nd; j++) dist[k, j - 1] = ds[j]; nn = nd }
        $1 == "L" { id[$2] = $3; order[++n] = $2 }
        $1 == "V" { g = $2; v = $4; hard[g, v] = $8; soft[g, v] = $10; if (v + 1 > nv[g]) nv[g] = v + 1
                    aff = $8 "/" $10; if (!((g, aff) in seen)) { seen[g, aff] = 1
                    affs[g] = affs[g] (affs[g] == "" ? "" : " ") aff } }
        $1 == "D" && /Domain [0-9]+ \(total:/ { for (i = 1; i <= NF; i++) if ($i == "Domain") d = $(i + 1) + 0 }
        $1 == "D" && /Node [0-9]+: [0-9]+$/ { for (i = 1; i <= NF; i++) if ($i == "Node") k = $(i + 1) + 0
                                               pages[d, k] = $NF }
        $1 == "R" { verdict[$2] = ($3 == 0 ? "OK" : ($3 == 1 ? "MISMATCH" : "exit " $3)) }
        END {
            for (j = 1; j <= n; j++) {
                g = order[j]; d = id[g]; tot = 0; mem = ""; nodes = ""
                for (k = 0; k < nn; k++) tot += pages[d, k]
                for (k = 0; k < nn; k++) {
                    mem = mem (k ? " / " : "") int(pages[d, k] * 4096 / 1048576 + 0.5)
                    if (tot && pages[d, k] * 10 >= tot) nodes = nodes (nodes == "" ? "" : ",") k
                }
                rwd = 0; lf = 0
                for (v = 0; v < nv[g]; v++) {
                    expand(hard[g, v], H); expand(soft[g, v], S)
                    delete vn; cnt = 0
                    for (c in S) if (c in H) { vn[cpunode[c]] = 1 }
                    for (x in vn) cnt++
                    if (!cnt) { for (c in H) vn[cpunode[c]] = 1; for (x in vn) cnt++ }
                    r = 0; l = 0
                    for (x in vn) {
                        for (m = 0; m < nn; m++) r += (tot ? pages[d, m] / tot : 0) * (dist[x, m] / 10 - 1)
                        l += tot ? pages[d, x] / tot : 0
                    }
                    if (cnt) { rwd += r / cnt; lf += l / cnt }
                }
                if (nv[g]) { rwd /= nv[g]; lf /= nv[g] }
                printf "%s|%s|%s|%s|%s|%.2f|%.2f\n", g, nodes, affs[g], mem,
                       (g in verdict ? verdict[g] : "-"), rwd, lf
            }
        }'
}
xl_rows=$(rows xl)
np_rows=$(rows numaplace)
configs=$(printf '%s\n' "$out" | sed -n 's/^@@config //p')
{
    echo "# Placement on a Xen 4.17 host: plain \`xl create\` and \`numaplace create\`"
    echo
    echo "Generated by \`tests/xen/placement-table.sh\` on $(date -u +%Y-%m-%d) (do not edit by hand;"
    echo "rerun it): Xen 4.17 booted under QEMU TCG with 4 nodes x 2 CPUs x 1 GiB (distances 10 / 20"
    echo "to a neighbour / 30 further), dom0 1 GiB. The configs run in groups that fit the host"
    echo "together (pv1..maxm, then vn2..vn4, then bigh, then bigp); per group every config is"
    echo "created by \`xl create\`, recorded, destroyed, then created by \`numaplace create\` and"
    echo "recorded. MiB per node: debug key \`u\` (node 0 / 1 / 2 / 3); nodes: those holding at"
    echo "least 10% of the guest's pages; affinity: hard/soft per vCPU as \`xl vcpu-list\` shows it"
    echo "(distinct values); verify: \`numaplace verify\` (a guest xl created has no plan file and"
    echo "is checked against its own affinity); RWD: remote-weighted distance, mean over vCPUs of"
    echo "sum_m share(m) x (SLIT(vCPU node, m)/10 - 1), lower is better; local: mean local"
    echo "fraction of the vCPUs' memory, higher is better. The whole run took ${secs} s."
    echo
    echo "Configs (name, type, vCPUs, memory, extra lines):"
    echo
    echo '```'
    printf '%s\n' "$configs"
    echo '```'
    echo
    echo "| guest | xl: nodes | xl: affinity | xl: MiB per node | xl: verify | xl: RWD | xl: local | numaplace: nodes | numaplace: affinity | numaplace: MiB per node | numaplace: verify | numaplace: RWD | numaplace: local |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
    join -t '|' -a 1 -a 2 -e "not created" -o 0,1.2,1.3,1.4,1.5,1.6,1.7,2.2,2.3,2.4,2.5,2.6,2.7 \
        <(printf '%s\n' "$xl_rows" | sort) <(printf '%s\n' "$np_rows" | sort) |
        awk -F'|' '{ printf "| %s |", $1; for (i = 2; i <= 13; i++) printf " %s |", $i; printf "\n" }'
    echo
    echo "## Creations (exit status, time)"
    echo
    echo '```'
    printf '%s\n' "$out" | awk '/^@@create xl/ { print substr($0, 10); on = 1; next } /^@@/ { on = 0 } on'
    printf '%s\n' "$out" | grep '^@@create numaplace' | sed 's/^@@create //'
    echo '```'
    echo
    echo "## \`numaplace create\` output"
    echo
    echo '```'
    printf '%s\n' "$out" | awk '/^@@create numaplace/ { print substr($0, 3); on = 1; next } /^@@/ { on = 0 } on'
    echo '```'
    echo
    echo "## \`numaplace verify\` of every guest"
    echo
    echo '```'
    printf '%s\n' "$out" | awk '/^@@verify / { print "# " substr($0, 10); on = 1; next } /^@@/ { on = 0 } on'
    echo '```'
} >"$out_md"
cat "$out_md"
