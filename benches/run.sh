#!/usr/bin/env bash
# Throughput benchmark: generates synthetic exports of 1k, 10k and 100k accounts (with as many
# consents and the default Hamburg packs) and times `konform check` on each with the release
# binary: wall time, peak memory (KB) and records per second. Medians of 3 runs.
#   bash benches/run.sh            # sizes 1000 10000 100000
#   bash benches/run.sh 1000000    # other sizes
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked --quiet
bin=target/release/konform
sizes=("${@:-1000 10000 100000}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf '%10s %10s %10s %14s\n' accounts seconds peak_kb records_per_s
for n in ${sizes[@]}; do
  python3 benches/generate.py "$n" "$work/$n"
  times=()
  for _ in 1 2 3; do
    /usr/bin/time -f '%e %M' -o "$work/time" "$bin" check "$work/$n" --today 2026-11-22 --format json >/dev/null || true
    times+=("$(tail -n 1 "$work/time")")
  done
  median=$(printf '%s\n' "${times[@]}" | sort -n | sed -n 2p)
  secs=${median% *}
  kb=${median#* }
  records=$((n * 2))
  rate=$(python3 -c "print(int($records / max($secs, 0.001)))")
  printf '%10s %10s %10s %14s\n' "$n" "$secs" "$kb" "$rate"
done
