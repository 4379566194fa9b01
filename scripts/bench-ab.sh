#!/usr/bin/env bash
# Before/after figures with one harness: builds pairdeck at BEFORE (a git
# revision) and from the work tree, runs this tree's `pairdeck bench
# --json` against the BEFORE build's gateway (--gateway) and then against
# its own, back to back, and prints a Markdown table of every figure
# before and after, with the targets and the load average around each run.
#
#   scripts/bench-ab.sh 170bc98                 # everything (about 8 minutes)
#   scripts/bench-ab.sh 170bc98 --only open     # some stages
#
# The binaries, both JSON reports and the table stay in $OUT (default: a
# new temp dir, printed at the end). Needs git, go and jq.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ $# -lt 1 ]; then
  echo "usage: scripts/bench-ab.sh BEFORE-REVISION [pairdeck bench flags]" >&2
  exit 2
fi
before=$1
shift
out=${OUT:-$(mktemp -d "${TMPDIR:-/tmp}/pairdeck-ab-XXXXXX")}
mkdir -p "$out/src-before"

git archive "$before" | tar -x -C "$out/src-before"
(cd "$out/src-before" && go build -o "$out/pd-before" .)
go build -o "$out/pd-after" .
rev_before=$(git rev-parse --short "$before")
rev_after=$(git rev-parse --short HEAD)$( [ -n "$(git status --porcelain)" ] && echo "+changes" || true)

load() { cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo "?"; }
l0=$(load)
"$out/pd-after" bench --json --gateway "$out/pd-before" "$@" >"$out/before.json" 2>"$out/before.err"
l1=$(load)
"$out/pd-after" bench --json "$@" >"$out/after.json" 2>"$out/after.err"
l2=$(load)

{
  echo "Before: $rev_before, after: $rev_after; the same harness (\`bench --gateway\`), back to back."
  echo "Load average (1 min): $l0 before the first run, $l1 between, $l2 after."
  echo
  echo "| figure | before | after | target | met after |"
  echo "|---|---|---|---|---|"
  jq -r --slurpfile b "$out/before.json" '
    . as $a
    | ($a.figures | keys_unsorted) as $keys
    | ($b[0].figures | keys_unsorted) as $bkeys
    | (($bkeys + $keys) | unique)[]
    | . as $k
    | "| `\($k)` | \($b[0][$k] // "—") | \($a[$k] // "—") | \($a.targets[$k].target // "") | \(if $a.targets[$k] then (if $a.targets[$k].met then "yes" else "no (\($a.targets[$k].miss))" end) else "" end) |"
  ' "$out/after.json"
  echo
  echo "| growth 1k → 10k | before | after | target |"
  echo "|---|---|---|---|"
  jq -r --slurpfile b "$out/before.json" '
    . as $a | $a.growth | to_entries[]
    | "| \(.key) | ×\($b[0].growth[.key].ratio // "—") | ×\(.value.ratio) | \(if .value.max then "≤ ×\(.value.max): \(if .value.met then "met" else "missed" end)" else "" end) |"
  ' "$out/after.json"
  echo
  echo "Notes before: $(jq -r '.notes | join("; ")' "$out/before.json")"
  echo "Notes after: $(jq -r '.notes | join("; ")' "$out/after.json")"
} | tee "$out/table.md"
echo "(reports, binaries and table.md in $out)" >&2
