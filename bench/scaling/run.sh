#!/usr/bin/env bash
# Time and peak memory of the analysis and planning on generated programs (docs/benchmarks.md,
# "Scaling").  Each program is compiled to .zxbc first, so the front end is left out.
#   bench/scaling/run.sh [ZEXUS] [SHAPES] [SIZES] [WHATS]
# prints one line per (shape, size, what): wall and CPU (user + system) seconds, peak RSS in
# MB and, for `chunks`, the size of the listing in bytes.  On a shared machine compare CPU
# seconds.  WHATS (default "chunks plan"):
#   compile zexus-jit compile P.zx: the front end alone (the .zx, not the .zxbc)
#   chunks  zexus-jit chunks P.zxbc: analysis and the listing
#   plan    zexus-jit run --mode=auto --workers=1 --jit=off P.zxbc: load, analysis, plan and a
#           sequential run (one worker: auto never goes parallel, so the DAG runtime is left out)
#   auto    zexus-jit run --mode=auto --jit=off P.zxbc: the plan with every worker
#   par     zexus-jit run --mode=par --workers=2 --jit=off P.zxbc: the DAG runtime too
#   seq     zexus-jit run --mode=seq --jit=off P.zxbc: no analysis at all (the baseline)
set -u
Z=${1:-build/zexus-jit}
SHAPES=${2:-"chain fan globals calls actions fork forkfree"}
SIZES=${3:-"1000 4000 16000"}
WHATS=${4:-"chunks plan"}
DIR=$(dirname "$0")
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
TO=${SCALING_TIMEOUT:-120}
printf '%-9s %7s %-7s %7s %7s %9s %10s\n' shape size what wall_s cpu_s peak_MB chunks_out
for s in $SHAPES; do
  for n in $SIZES; do
    python3 "$DIR/gen.py" "$s" "$n" > "$TMP/p.zx"
    "$Z" compile "$TMP/p.zx" -o "$TMP/p.zxbc" || { echo "compile failed: $s $n"; continue; }
    for w in $WHATS; do
      case $w in
        compile) cmd=("$Z" compile "$TMP/p.zx" -o "$TMP/q.zxbc") ;;
        chunks) cmd=("$Z" chunks "$TMP/p.zxbc") ;;
        plan) cmd=("$Z" run --mode=auto --workers=1 --jit=off "$TMP/p.zxbc") ;;
        auto) cmd=("$Z" run --mode=auto --jit=off "$TMP/p.zxbc") ;;
        par) cmd=("$Z" run --mode=par --workers=2 --jit=off "$TMP/p.zxbc") ;;
        seq) cmd=("$Z" run --mode=seq --jit=off "$TMP/p.zxbc") ;;
      esac
      if timeout "$TO" /usr/bin/time -f '%e %U %S %M' -o "$TMP/t" "${cmd[@]}" > "$TMP/out" 2>/dev/null; then
        read -r sec us ss kb < "$TMP/t"
        printf '%-9s %7d %-7s %7s %7.2f %9.1f %10s\n' "$s" "$n" "$w" "$sec" "$(echo "$us+$ss" | bc -l)" \
          "$(echo "$kb/1024" | bc -l)" \
          "$( [ "$w" = chunks ] && wc -c < "$TMP/out" || echo -)"
      else
        printf '%-9s %7d %-7s %9s\n' "$s" "$n" "$w" "timeout/failed(>${TO}s)"
      fi
    done
  done
done
