#!/bin/sh
# fim_vs_aide.sh — Vigie's FIM (bench_fim) against AIDE over the same tree, side by side in
# one run, with the same attributes (permissions, inode, links, owner, group, size, mtime,
# ctime) and SHA-256, both with 2 worker threads.
#
#   bench/fim_vs_aide.sh [TREE]        (after: cmake --build <dir> --target bench_fim)
#
# Order: one uncounted pass warms the page cache (so both tools are timed warm, as the peer
# benchmark in ../shared/bench-peers/bench_fim.sh does), then per round: AIDE --init, Vigie
# baseline, AIDE --check, Vigie check (hashes only what changed by metadata), Vigie rehash
# (hashes everything again: the like-for-like counterpart of AIDE's check). Times are whole
# process wall/CPU/peak RSS from GNU time; ratios are AIDE time / Vigie time.
# Environment: BENCH_FIM (default build/bench/bench_fim), RUNS (rounds, default 1),
# AIDE (default /usr/bin/aide). Scratch files live in a temporary directory removed on exit.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
TREE=${1:-/usr}
BENCH=${BENCH_FIM:-$ROOT/build/bench/bench_fim}
AIDE=${AIDE:-/usr/bin/aide}
RUNS=${RUNS:-1}

[ -x "$AIDE" ] || { echo "$AIDE not found (apt install aide)"; exit 1; }
[ -x "$BENCH" ] || { echo "$BENCH missing: cmake --build build --target bench_fim"; exit 1; }
[ -x /usr/bin/time ] || { echo "/usr/bin/time missing (apt install time)"; exit 1; }

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT INT TERM
cat >"$TMP/aide.conf" <<EOF
database_in=file:$TMP/aide.db
database_out=file:$TMP/aide.db.new
gzip_dbout=no
report_url=stdout
num_workers=2
Bench = p+i+n+u+g+s+m+c+sha256
$TREE Bench
EOF

# run NAME CMD...: time CMD, append "NAME wall cpu rss_mib" to $TMP/times
run() {
    name=$1
    shift
    /usr/bin/time -f '%e %U %S %M' -o "$TMP/t" "$@" >"$TMP/out.$name" 2>&1 || true
    awk -v n="$name" '{printf "%s %.2f %.2f %.0f\n", n, $1, $2 + $3, $4 / 1024}' "$TMP/t" \
        >>"$TMP/times"
    printf '  %-15s wall %7.2f s  cpu %7.2f s  rss %5s MiB\n' \
        $(tail -1 "$TMP/times")
}

echo "tree: $TREE ($(find "$TREE" -xdev | wc -l) entries); load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "warming the page cache (uncounted)"
"$BENCH" -m baseline -d "$TMP/warm.db" "$TREE" >/dev/null
rm -f "$TMP/warm.db"*
: >"$TMP/times"
i=1
while [ "$i" -le "$RUNS" ]; do
    echo "round $i"
    rm -f "$TMP/aide.db" "$TMP/aide.db.new" "$TMP/vigie.db"*
    run aide_init "$AIDE" --init -c "$TMP/aide.conf"
    mv "$TMP/aide.db.new" "$TMP/aide.db"
    run vigie_baseline "$BENCH" -m baseline -d "$TMP/vigie.db" "$TREE"
    run aide_check "$AIDE" --check -c "$TMP/aide.conf"
    run vigie_check "$BENCH" -m check -d "$TMP/vigie.db" "$TREE"
    run vigie_rehash "$BENCH" -m rehash -d "$TMP/vigie.db" "$TREE"
    grep -h '^\(baseline\|check\|rehash\) ' "$TMP"/out.vigie_* | sed 's/^/    /'
    i=$((i + 1))
done

# median wall per name, then ratios
awk '{w[$1] = w[$1] " " $2}
     function med(s,   a, n, i, j, t) { n = split(s, a, " ")
        for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
        return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
     END {
        ai = med(w["aide_init"]); vb = med(w["vigie_baseline"])
        ac = med(w["aide_check"]); vc = med(w["vigie_check"]); vr = med(w["vigie_rehash"])
        printf "\nmedian wall (s)      AIDE     Vigie    ratio\n"
        printf "baseline          %7.2f  %7.2f  %6.1fx\n", ai, vb, ai / vb
        printf "check (rehash all)%7.2f  %7.2f  %6.1fx\n", ac, vr, ac / vr
        printf "check (metadata)  %7.2f  %7.2f  %6.1fx\n", ac, vc, ac / vc
     }' "$TMP/times"
