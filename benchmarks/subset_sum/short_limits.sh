#!/bin/bash
# Subset-sum just below mitm's limit (n = 56, 62) under short time limits: greedy (what mitm
# returned before 2026-12-07 when its table build ran out), mitm, core_search and auto, side by
# side in one run, each solve a fresh CLI process. Prints a markdown table:
#   bash benchmarks/subset_sum/short_limits.sh  (docs/benchmarks/subset-sum-short-limits.md)
set -e
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
echo "| n | seed | limit (s) | greedy | mitm | core_search | auto | mitm's note |"
echo "|---|---|---|---|---|---|---|---|"
for n in 56 62; do for seed in 0 1 2; do
  exactprune generate subset-sum --n $n --seed $seed -o i.json
  g=$(exactprune solve i.json --solver greedy --json | python -c "import json,sys; print(f\"{json.load(sys.stdin)['objective']:.2g}\")")
  for lim in 0.1 0.5 2 10; do
    row="| $n | $seed | $lim | $g"
    for s in mitm core_search auto; do
      exactprune solve i.json --solver $s --time-limit $lim --json > r_$s.json || true
      row="$row | $(python -c "import json; print(f\"{json.load(open('r_$s.json'))['objective']:.2g}\")")"
    done
    note=$(python -c "import json; n=json.load(open('r_mitm.json'))['notes']; print(next((x for x in n if 'table' in x or 'blocks' in x), n[-1])[:60])")
    echo "$row | $note |"
  done
done; done
