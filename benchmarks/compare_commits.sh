#!/usr/bin/env bash
# Interleaved A/B timing of `kds-iac scan TREE --format json` for two commits of this
# repository on the same trees: each round runs A then B, so load changes hit both alike.
# Usage: benchmarks/compare_commits.sh OLD_REV NEW_REV TREE... (ROUNDS=9 by default)
# Trees: e.g. python -c "import sys; sys.path.insert(0, 'benchmarks'); import generate;
#        generate.generate_tree('/tmp/t100', 'terraform', 100)"
set -euo pipefail
old=$1 new=$2; shift 2
repo=$(cd "$(dirname "$0")/.." && pwd)
python=${PYTHON:-$repo/.venv/bin/python}
work=$(mktemp -d)
trap 'git -C "$repo" worktree remove --force "$work/old" >/dev/null 2>&1; git -C "$repo" worktree remove --force "$work/new" >/dev/null 2>&1; rm -rf "$work"' EXIT
git -C "$repo" worktree add --detach "$work/old" "$old" >/dev/null 2>&1
git -C "$repo" worktree add --detach "$work/new" "$new" >/dev/null 2>&1
run() {  # bytecode is written and reused, as for an installed package
    env -u PYTHONDONTWRITEBYTECODE PYTHONPATH="$work/$1" "$python" -P -m kds_iac scan "$2" --format json >/dev/null 2>&1 || true
}
for tree in "$@"; do run old "$tree"; run new "$tree"; done  # warm-up: bytecode
for tree in "$@"; do
    for _ in $(seq "${ROUNDS:-9}"); do
        for side in old new; do
            start=$(date +%s.%N); run "$side" "$tree"; end=$(date +%s.%N)
            echo "$tree $side $start $end"
        done
    done
done | "$python" -c '
import collections, statistics, sys
times = collections.defaultdict(list)
for line in sys.stdin:
    tree, side, start, end = line.split()
    times[(tree, side)].append(float(end) - float(start))
for tree in dict.fromkeys(k[0] for k in times):
    old, new = statistics.median(times[(tree, "old")]), statistics.median(times[(tree, "new")])
    print(f"{tree}: old {old:.3f} s, new {new:.3f} s, new/old {new / old:.2f}")
'
