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
# Host: 4 nodes x 2 CPUs x 1 GiB, distances 10/20/30, dom0 1 GiB. The
# configs run in groups that fit the host together, one boot per group;
# per group: xl create each, record, destroy; numaplace create each,
# record, destroy. Each group's dom0 output is kept in
# BUILD_DIR/xen-table/GROUP.out; a group whose output is there already
# (ending in "@@end") is not run again, so an interrupted table resumes
# where it stopped. NP_TABLE_GROUPS="g1 g5" runs only those groups (the
# others' kept output still goes into the table); NP_TABLE_RERUN=1 runs
# them even when kept; NP_TABLE_REPORT_ONLY=1 runs nothing and writes the
# table from the kept output. 3-10 minutes per group under TCG.
#
# Devices: dom0 gets a bridge xenbr0 (for vif=) and a loop device per disk
# (a 16 MiB file attached by losetup, given as phy:/dev/loopN), so disk=
# and vif= guests are built with their back-ends and hotplug scripts as on
# a real dom0. (With a file target the block script runs losetup itself;
# under TCG on a loaded machine that script overran libxl's hotplug
# timeout: "killing execution of /etc/xen/scripts/block add because of
# timeout", docs/xen.md.)
# HVM: the test dom0 has no device model (qemu-system-i386). The HVM guest
# names device_model_override=/tmp/fake-dm, a script that notes it was
# (and bios_path_override= a zero-filled file: dom0 has no SeaBIOS ROM,
# which libxl loads into the domain before the build; without it: "failed
# to read BIOS file")
# started and sleeps: libxl builds the domain (hvmloader, all its memory)
# and only then starts the device model, so when the fake one starts the
# placement is complete. The row is recorded at that moment; then the
# domain is destroyed (the create itself fails for want of a device model,
# for xl and numaplace alike): HVM is compared up to the domain build.
# Exit 77 when the host cannot boot Xen.
set -u
build=${1:?usage: placement-table.sh BUILD_DIR [OUT.md]}
here=$(cd "$(dirname "$0")" && pwd)
out_md=${2:-$here/../../docs/xen-placement.md}

dom0_common=$(cat <<'DOM0'
mk() { # mk NAME TYPE VCPUS MEMORY_MIB [EXTRA LINE]...
    n=$1 t=$2 v=$3 m=$4
    shift 4
    { printf 'name="%s"\ntype="%s"\n' "$n" "$t"
      [ "$t" = hvm ] || printf 'kernel="/guest/vmlinuz"\nramdisk="/guest/initrd.gz"\nextra="console=hvc0"\n'
      printf 'vcpus=%s\nmemory=%s\n' "$v" "$m"
      for l in "$@"; do printf '%s\n' "$l"; done; } >"/tmp/$n.cfg"
    echo "@@config $n $t ${v}vcpu ${m}MiB $*"
}
ip link add xenbr0 type bridge && ip link set xenbr0 up
for d in 0 1; do dd if=/dev/zero of=/tmp/d$d.img bs=1M count=16 2>/dev/null; losetup /dev/loop$d /tmp/d$d.img; done
printf '#!/bin/sh\ntouch /tmp/dm-up\nexec sleep 600\n' >/tmp/fake-dm; chmod 755 /tmp/fake-dm
dd if=/dev/zero of=/tmp/fake-bios.bin bs=64k count=1 2>/dev/null # libxl loads a BIOS ROM before the build
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
create() { # create MODE NAME: xl or numaplace; an HVM guest is recorded at its
    # device model's start (the fake one never reports ready)
    rm -f /tmp/dm-up
    t0=$(date +%s)
    if [ "$1" = xl ]; then set -- "$1" "$2" xl create; else set -- "$1" "$2" ./numaplace create; fi
    if grep -q '^type="hvm"' "/tmp/$2.cfg"; then
        "$3" "$4" "/tmp/$2.cfg" >"/tmp/$1-$2.log" 2>&1 &
        i=0; while [ ! -e /tmp/dm-up ] && [ $i -lt 300 ] && kill -0 $! 2>/dev/null; do sleep 1; i=$((i + 1)); done
        [ -e /tmp/dm-up ]; rc=$?
        echo "@@create $1 $2 rc=$rc $(($(date +%s) - t0))s (domain built, device model started)"
    else
        "$3" "$4" "/tmp/$2.cfg" >"/tmp/$1-$2.log" 2>&1; rc=$?
        echo "@@create $1 $2 rc=$rc $(($(date +%s) - t0))s"
    fi
    if [ "$1" = numaplace ] || [ $rc != 0 ]; then sed 's/^/    /' "/tmp/$1-$2.log" | tail -n 40; fi
    [ $rc = 0 ] || tail -n 15 /var/log/xen/xen-hotplug.log 2>/dev/null | sed 's/^/    hotplug: /'
}
destroy_all() { # destroy_all GUESTS: and wait for a pending HVM create
    for g in "$@"; do xl destroy "$g" 2>/dev/null; done
    wait
    for g in "$@"; do rm -f "/run/numaplace/$g.plan" "/run/numaplace/$g.cfg"; done
    sleep 2
}
group() { # group GUESTS...
    for g in "$@"; do create xl "$g"; done
    report xl "$*"
    destroy_all "$@"
    for g in "$@"; do create numaplace "$g"; done
    report numaplace "$*"
    destroy_all "$@"
}
echo "@@info"; xl info -n
DOM0
)
# The groups: configs that fit the host together.
group_script() {
    case $1 in
    g1) cat <<'G'
mk pv1 pv 2 256
mk pv2 pv 2 256
mk pvh4 pvh 4 512
mk cpus pv 2 128 'cpus="6-7"'
mk soft pv 2 128 'cpus_soft="4-5"'
mk maxm pv 1 128 'maxmem=256'
group pv1 pv2 pvh4 cpus soft maxm
G
    ;;
    g2) cat <<'G'
mk vn2 pvh 2 256 'vnuma=[ ["pnode=0","size=128","vcpus=0","vdistances=10,20"], ["pnode=1","size=128","vcpus=1","vdistances=20,10"] ]'
mk vn3 pvh 3 384 'vnuma=[ ["pnode=1","size=128","vcpus=0","vdistances=10,20,30"], ["pnode=2","size=128","vcpus=1","vdistances=20,10,20"], ["pnode=3","size=128","vcpus=2","vdistances=30,20,10"] ]'
group vn2 vn3
G
    ;;
    g3) cat <<'G'
mk bigh pvh 4 1280
mk bigp pv 2 1152
group bigh
group bigp
G
    ;;
    g4) cat <<'G'
mk vn4 pvh 4 512 'vnuma=[ ["pnode=0","size=128","vcpus=0","vdistances=10,20,30,30"], ["pnode=1","size=128","vcpus=1","vdistances=20,10,20,30"], ["pnode=2","size=128","vcpus=2","vdistances=30,20,10,20"], ["pnode=3","size=128","vcpus=3","vdistances=30,30,20,10"] ]'
group vn4
G
    ;;
    g5) cat <<'G'
mk disk pv 2 256 'disk=["phy:/dev/loop0,xvda,w"]'
mk vif pv 2 256 'vif=["bridge=xenbr0"]'
mk dvh pvh 2 384 'disk=["phy:/dev/loop1,xvda,w"]' 'vif=["bridge=xenbr0"]'
mk hvm hvm 2 256 'device_model_override="/tmp/fake-dm"' 'device_model_version="qemu-xen"' 'vga="none"' 'serial="none"' 'bios_path_override="/tmp/fake-bios.bin"'
group disk vif dvh hvm
G
    ;;
    g6) cat <<'G'
mk hvm hvm 2 256 'device_model_override="/tmp/fake-dm"' 'device_model_version="qemu-xen"' 'vga="none"' 'serial="none"' 'bios_path_override="/tmp/fake-bios.bin"'
group hvm
G
    ;;
    esac
}
all_groups="g1 g2 g3 g4 g5 g6"
keep=$build/xen-table
mkdir -p "$keep"
dom0_script=$(mktemp)
trap 'rm -f "$dom0_script"' EXIT
ran=""
for g in ${NP_TABLE_GROUPS:-$all_groups}; do
    [ -n "${NP_TABLE_REPORT_ONLY:-}" ] && break
    if [ -z "${NP_TABLE_RERUN:-}" ] && grep -q '^@@end$' "$keep/$g.out" 2>/dev/null; then
        echo "placement-table: group $g kept from an earlier run ($keep/$g.out)"
        continue
    fi
    { printf '%s\n' "$dom0_common"; group_script "$g"; echo 'echo "@@end"'; } >"$dom0_script"
    gstart=$(date +%s)
    "$here/xen-host.sh" -n 4 -c 2 -m 1024 -t 1800 -b "$build" \
        -d "dom0_mem=1024M,max:1024M dom0_max_vcpus=2" "$dom0_script" >"$keep/$g.out.tmp"
    rc=$?
    [ $rc = 77 ] && { echo "SKIP: the Xen test host cannot boot here"; exit 77; }
    echo "placement-table: group $g: xen-host.sh exit $rc after $(($(date +%s) - gstart)) s"
    printf '@@took %s\n' "$(($(date +%s) - gstart))" >>"$keep/$g.out.tmp"
    mv "$keep/$g.out.tmp" "$keep/$g.out"
    ran="$ran $g"
    [ $rc = 0 ] || { cat "$keep/$g.out"; echo "group $g failed (xen-host.sh exit $rc)"; exit 1; }
done

# Every kept group's output, in group order ("@@info" once is enough).
out=""
groups_done="" secs=0
for g in $all_groups; do
    grep -q '^@@end$' "$keep/$g.out" 2>/dev/null || continue
    out="$out$(cat "$keep/$g.out")"$'\n'
    groups_done="$groups_done $g"
    secs=$((secs + $(sed -n 's/^@@took //p' "$keep/$g.out" | tail -n 1)))
done
[ -n "$out" ] || { echo "no group has run"; exit 1; }

# Every line of a section (sections repeat per group: all are joined).
sections() { printf '%s\n' "$out" | awk -v s="@@$1" '/^@@/ { on = ($0 == s); next } on'; }

# One row per guest: nodes (>= 10% of its pages), affinity, MiB per node,
# verify's verdict, remote-weighted distance, local fraction.
# Per group: domain ids start again at every boot.
rows() { # rows MODE: of every group that ran; a guest already in an earlier
    # group (hvm: g5, and g6 alone) is named "NAME (GROUP)"
    local g out seen=" "
    for g in $groups_done; do
        out=$(cat "$keep/$g.out")
        group_rows "$1" | awk -F'|' -v OFS='|' -v seen="$seen" -v g="$g" \
            'index(seen, " " $1 " ") { $1 = $1 " (" g ")" } { print }'
        seen="$seen$(printf '%s\n' "$out" | sed -n 's/^@@config \([^ ]*\) .*/\1/p' | tr '\n' ' ')"
    done
}
group_rows() { # group_rows MODE: of the group in $out
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
            # CPU over-commit: every vCPU listed (dom0 is not) weighs 1 over
            # the nodes of its effective mask (soft & hard when they meet,
            # else hard) in proportion to the mask'"'"'s CPUs there, as
            # np_xen_vcpu_load counts; a guest'"'"'s over-commit is vCPUs / CPUs of
            # the busiest node its own vCPUs run on.
            for (c in cpunode) ncpu[cpunode[c]]++
            for (j = 1; j <= n; j++) {
                g = order[j]
                for (v = 0; v < nv[g]; v++) {
                    expand(hard[g, v], H); expand(soft[g, v], S)
                    delete E; ne = 0
                    for (c in S) if (c in H) { E[c] = 1; ne++ }
                    if (!ne) for (c in H) { E[c] = 1; ne++ }
                    for (c in E) { w[g, cpunode[c]] += 1 / ne; load[cpunode[c]] += 1 / ne }
                }
            }
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
                oc = -1; busy = -1
                for (k = 0; k < nn; k++)
                    if (w[g, k] > 1e-9 && ncpu[k] && load[k] / ncpu[k] > oc) { oc = load[k] / ncpu[k]; busy = k }
                ocs = oc < 0 ? "-" : sprintf("%.2f (%g/%d on %d)", oc, load[busy], ncpu[busy], busy)
                printf "%s|%s|%s|%s|%s|%.2f|%.2f|%s\n", g, nodes, affs[g], mem,
                       (g in verdict ? verdict[g] : "-"), rwd, lf, ocs
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
    echo "together, one boot per group (g1: pv1..maxm; g2: vn2 and vn3; g3: bigh, then bigp; g4: vn4 on a boot of its own (in g2, after vn2 and vn3, its vnode on node 3 could not be allocated); g5: disk,"
    echo "vif, dvh, hvm; g6: hvm alone, named \"hvm (g6)\"; groups in this table:${groups_done}); per group every config is"
    echo "created by \`xl create\`, recorded, destroyed, then created by \`numaplace create\` and"
    echo "recorded. dom0 has a bridge xenbr0 for vif= and a 16 MiB file on a loop device per"
    echo "disk= (\`phy:/dev/loopN\`; the block and vif-bridge hotplug scripts run). HVM (hvm):"
    echo "dom0 has no device model, so the"
    echo "guest names a fake one (a script that notes its start and sleeps); libxl builds the"
    echo "domain with all its memory before it starts the device model, and the row is recorded"
    echo "at that moment - compared up to the domain build; the create then fails for want of a"
    echo "device model, under xl and numaplace alike. MiB per node: debug key \`u\` (node 0 / 1 / 2 / 3); nodes: those holding at"
    echo "least 10% of the guest's pages; affinity: hard/soft per vCPU as \`xl vcpu-list\` shows it"
    echo "(distinct values); verify: \`numaplace verify\` (a guest xl created has no plan file and"
    echo "is checked against its own affinity); RWD: remote-weighted distance, mean over vCPUs of"
    echo "sum_m share(m) x (SLIT(vCPU node, m)/10 - 1), lower is better; local: mean local"
    echo "fraction of the vCPUs' memory, higher is better; over-commit: vCPUs / CPUs of the busiest"
    echo "node the guest's own vCPUs run on (every guest's vCPUs listed by \`xl vcpu-list\` at that"
    echo "moment, dom0's left out, each weighing 1 over the CPUs of its effective mask - soft & hard"
    echo "when they meet, else hard - as numaplace's own choice counts them), lower is better;"
    echo "numaplace vs xl: \"no worse\" when numaplace's RWD and over-commit are both at most xl's."
    echo "The groups took ${secs} s in all."
    missing=""
    for g in $all_groups; do case " $groups_done " in *" $g "*) ;; *) missing="$missing $g" ;; esac; done
    [ -z "$missing" ] || echo "Groups not in this table (no kept output of theirs):$missing."
    echo
    echo "Configs (name, type, vCPUs, memory, extra lines):"
    echo
    echo '```'
    printf '%s\n' "$configs"
    echo '```'
    echo
    echo "| guest | xl: nodes | xl: affinity | xl: MiB per node | xl: verify | xl: RWD | xl: local | xl: over-commit | numaplace: nodes | numaplace: affinity | numaplace: MiB per node | numaplace: verify | numaplace: RWD | numaplace: local | numaplace: over-commit | numaplace vs xl |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
    join -t '|' -a 1 -a 2 -e "not created" -o 0,1.2,1.3,1.4,1.5,1.6,1.7,1.8,2.2,2.3,2.4,2.5,2.6,2.7,2.8 \
        <(printf '%s\n' "$xl_rows" | sort) <(printf '%s\n' "$np_rows" | sort) |
        awk -F'|' '{ printf "| %s |", $1; for (i = 2; i <= 15; i++) printf " %s |", $i
                     # no worse: RWD and over-commit at most xl'"'"'s (to the printed 0.01)
                     v = "no worse"
                     if ($6 == "not created" || $13 == "not created") v = "-"
                     else {
                         w = ""
                         if ($13 + 0 > $6 + 0 + 0.005) w = "RWD"
                         if ($15 + 0 > $8 + 0 + 0.005) w = w (w == "" ? "" : ", ") "over-commit"
                         if (w != "") v = "worse: " w
                     }
                     printf " %s |\n", v }'
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
