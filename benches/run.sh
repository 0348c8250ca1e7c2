#!/usr/bin/env bash
# Performance benchmark: konform against the floor (the same CSV file read with the same CSV
# reader plus one regex on the username column, benches/floor.rs).
#
#   bash benches/run.sh                    # 10k, 100k and 1M accounts
#   bash benches/run.sh 1000 10000         # other sizes
#
# For each size: generates a synthetic school (cargo run --example gen-accounts: N accounts,
# about as many consents, the default Hamburg packs), then prints the median of 3 runs of
# wall time and peak RSS of `konform check --format json` and of the floor, accounts per
# second, the ratio konform/floor, and konform's CPU time (user + system: steadier than wall
# time on a shared machine). Builds the release binaries first.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked --quiet --bin konform --example gen-accounts --example floor
bin=target/release/konform
gen=target/release/examples/gen-accounts
floor=target/release/examples/floor
sizes=("${@:-10000 100000 1000000}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

median() { sort -n | sed -n 2p; }

run3() { # prints "seconds peak_kb cpu_seconds" (median of 3 runs by time)
  local out=()
  for _ in 1 2 3; do
    /usr/bin/time -f '%e %M %U %S' -o "$work/time" "$@" >/dev/null 2>&1 || true
    out+=("$(tail -n 1 "$work/time")")
  done
  printf '%s\n' "${out[@]}" | median
}

printf '%9s %9s %9s %12s %9s %9s %7s %7s\n' accounts seconds peak_MB accounts/s floor_s floor_MB ratio cpu_s
for n in ${sizes[@]}; do
  "$gen" "$n" "$work/$n"
  read -r secs kb usr sys < <(run3 "$bin" check "$work/$n" --today 2026-11-22 --format json)
  read -r fsecs fkb _ _ < <(run3 "$floor" "$work/$n/accounts.csv")
  python3 - "$n" "$secs" "$kb" "$fsecs" "$fkb" "$usr" "$sys" <<'PY'
import sys
n, secs, kb, fsecs, fkb = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
cpu = float(sys.argv[6]) + float(sys.argv[7])
print(f"{n:9d} {secs:9.2f} {kb/1024:9.0f} {int(n/max(secs,0.001)):12d} {fsecs:9.2f} {fkb/1024:9.0f} {secs/max(fsecs,0.001):7.1f} {cpu:7.2f}")
PY
  rm -rf "${work:?}/$n"
done
