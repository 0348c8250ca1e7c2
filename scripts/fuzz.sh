#!/usr/bin/env bash
# Runs konform's libFuzzer targets (fuzz/, cargo-fuzz) one after another for a bounded time.
#
# Usage: scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
#   SECONDS_PER_TARGET  default 60
#   TARGET              default: all targets (csv yaml json ldif scim ss12000 roster config
#                       pack policy waivers pipeline)
# Environment:
#   FUZZ_SANITIZER      address (default when the toolchain ships the ASan runtime) or none
#   FUZZ_RSS_LIMIT_MB   libFuzzer -rss_limit_mb (default 2048)
#   FUZZ_TIMEOUT        libFuzzer -timeout per input in seconds (default 10)
#   FUZZ_NO_BUILD=1     run the targets built before (fuzz/target/) without building
#   KONFORM_FUZZ_KNOWN  comma-separated known issues the targets tolerate (see fuzz/README.md);
#                       unset: every invariant is checked
#
# Steps: installs cargo-fuzz when `cargo fuzz` is missing; builds the targets (release with
# debug assertions and overflow checks, ASan unless FUZZ_SANITIZER=none); builds each target's
# seed corpus in fuzz/corpus/<target>/ from tests/fixtures/, examples/ and policies/ (kept between
# runs, so the corpus grows); runs each target with a single in-process fuzzer (one core: the
# machine is shared) for SECONDS_PER_TARGET seconds; prints one summary line per target.
# Logs go to fuzz/artifacts/<target>.log, crashing inputs to fuzz/artifacts/<target>/.
#
# Exits non-zero when any target crashed (panic, timeout, out-of-memory) or did not build.
# Only a stable toolchain is needed: RUSTC_BOOTSTRAP=1 lets cargo-fuzz pass its -Z flags.
# Not run by `cargo test` or .ci/run.
set -euo pipefail

ALL_TARGETS=(csv yaml json ldif scim ss12000 roster config pack policy waivers pipeline)

seconds=60
if [[ $# -gt 0 ]]; then
    if [[ ! $1 =~ ^[0-9]+$ ]]; then
        echo "usage: $0 [SECONDS_PER_TARGET] [TARGET...]" >&2
        exit 2
    fi
    seconds=$1
    shift
fi
targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then
    targets=("${ALL_TARGETS[@]}")
fi
for t in "${targets[@]}"; do
    if [[ ! " ${ALL_TARGETS[*]} " == *" $t "* ]]; then
        echo "error: unknown target \`$t\` (one of: ${ALL_TARGETS[*]})" >&2
        exit 2
    fi
done

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
fuzz="$root/fuzz"
cd "$root"
export RUSTC_BOOTSTRAP=1

# --- cargo-fuzz -------------------------------------------------------------------------------
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "== installing cargo-fuzz"
    cargo install cargo-fuzz --locked
fi

# --- sanitizer --------------------------------------------------------------------------------
host=$(rustc -vV | sed -n 's/^host: //p')
sysroot=$(rustc --print sysroot)
sanitizer=${FUZZ_SANITIZER:-}
if [[ -z $sanitizer ]]; then
    if compgen -G "$sysroot/lib/rustlib/$host/lib/librustc-*_rt.asan.a" >/dev/null; then
        sanitizer=address
    else
        echo "note: no AddressSanitizer runtime in $sysroot; building with -s none" >&2
        sanitizer=none
    fi
fi
# -a: debug assertions and overflow checks on (cargo-fuzz's default too, stated for clarity).
build_flags=(-s "$sanitizer" -a)

# --- build ------------------------------------------------------------------------------------
# Built once; the runs below start the binaries directly (as `cargo fuzz run` would, without
# building again when src/ changes in between).
bin_dir="$fuzz/target/$host/release"
if [[ ${FUZZ_NO_BUILD:-0} == 1 ]]; then
    echo "== not building (FUZZ_NO_BUILD=1): using $bin_dir"
elif [[ ${#targets[@]} -eq ${#ALL_TARGETS[@]} ]]; then
    echo "== building fuzz targets (sanitizer: $sanitizer)"
    cargo fuzz build "${build_flags[@]}"
else
    echo "== building fuzz targets (sanitizer: $sanitizer)"
    for t in "${targets[@]}"; do
        cargo fuzz build "${build_flags[@]}" "$t"
    done
fi
for t in "${targets[@]}"; do
    if [[ ! -x $bin_dir/$t ]]; then
        echo "error: $bin_dir/$t is missing; build it (drop FUZZ_NO_BUILD)" >&2
        exit 2
    fi
done

# --- seed corpora -----------------------------------------------------------------------------
max_len_of() {
    case $1 in
        config | pack | policy | waivers) echo 16384 ;;
        *) echo 65536 ;;
    esac
}

dict_of() {
    case $1 in
        csv) echo csv ;;
        yaml | config | pack | waivers | pipeline) echo yaml ;;
        json | scim | ss12000) echo json ;;
        ldif) echo ldif ;;
        policy) echo cedar ;;
        *) echo "" ;;
    esac
}

# seed TARGET FILE: copies FILE into the target's corpus (named after its path) when it fits.
seed() {
    local target=$1 file=$2 max name
    max=$(max_len_of "$target")
    [[ $(wc -c <"$file") -le $max ]] || return 0
    name=${file#"$root"/}
    name=${name//\//_}
    cp "$file" "$fuzz/corpus/$target/seed-$name"
}

echo "== preparing seed corpora in fuzz/corpus/"
for t in "${targets[@]}"; do
    mkdir -p "$fuzz/corpus/$t"
done
want() { [[ " ${targets[*]} " == *" $1 "* ]]; }

while IFS= read -r -d '' f; do
    base=$(basename "$f")
    lower=${base,,}
    case $lower in
        *.csv | *.tsv) want csv && seed csv "$f" ;;
        *.ldif) want ldif && seed ldif "$f" ;;
        *.zip) want roster && seed roster "$f" ;;
        *.cedar) want policy && seed policy "$f" ;;
        *.json)
            want json && seed json "$f"
            case $f in
                *scim*) want scim && seed scim "$f" ;;
                *ss12000*) want ss12000 && seed ss12000 "$f" ;;
            esac
            ;;
        *.yaml | *.yml)
            # Every YAML file also feeds the YAML input reader: the parser is the same.
            want yaml && seed yaml "$f"
            case $lower in
                konform.yaml | konform.yml) want config && seed config "$f" ;;
                pack.yaml) want pack && seed pack "$f" ;;
                waivers*.yaml | waivers*.yml) want waivers && seed waivers "$f" ;;
            esac
            ;;
    esac
done < <(find tests/fixtures examples policies -type f -print0 | sort -z)

# Roster bundles: zip every bundle folder of the fixtures (stored and deflated), when python3
# is there to do it.
if want roster && command -v python3 >/dev/null; then
    python3 - "$root" "$fuzz/corpus/roster" <<'EOF'
import os, sys, zipfile
root, out = sys.argv[1], sys.argv[2]
for base in ("tests/fixtures", "examples"):
    for d, _, files in os.walk(os.path.join(root, base)):
        names = {f.lower() for f in files}
        if not ({"users.csv", "student.csv", "teacher.csv"} & names):
            continue
        csvs = sorted(f for f in files if f.lower().endswith(".csv"))
        tag = os.path.relpath(d, root).replace("/", "_")
        for mode, suffix in ((zipfile.ZIP_STORED, "stored"), (zipfile.ZIP_DEFLATED, "deflated")):
            path = os.path.join(out, f"seed-{tag}-{suffix}.zip")
            with zipfile.ZipFile(path, "w", mode) as z:
                for f in csvs:
                    z.write(os.path.join(d, f), f)
            if os.path.getsize(path) > 65536:
                os.remove(path)
EOF
fi

# Pipeline seeds: selector byte + up to two input files of a fixture or example folder
# (+ its konform.yaml), separated by 0xFF (see fuzz/fuzz_targets/pipeline.rs).
if want pipeline; then
    ext_code() {
        case ${1##*.} in
            csv) echo 0 ;;
            yaml) echo 1 ;;
            json) echo 2 ;;
            ldif) echo 3 ;;
        esac
    }
    for d in examples/*/ tests/fixtures/*/; do
        d=${d%/}
        parts=()
        while IFS= read -r -d '' f; do
            case $(basename "$f") in
                konform.yaml | pack.yaml | waivers*.yaml | baseline.json) continue ;;
            esac
            LC_ALL=C grep -q $'\xff' "$f" && continue
            parts+=("$f")
            [[ ${#parts[@]} -ge 2 ]] && break
        done < <(find "$d" -maxdepth 2 -type f \( -name '*.csv' -o -name '*.yaml' -o -name '*.json' -o -name '*.ldif' \) -not -path '*/tests/*' -print0 | sort -z)
        [[ ${#parts[@]} -gt 0 ]] || continue
        selector=0
        for i in "${!parts[@]}"; do
            selector=$((selector | $(ext_code "${parts[$i]}") << (2 * i)))
        done
        config=""
        if [[ -f $d/konform.yaml ]] && ! LC_ALL=C grep -q $'\xff' "$d/konform.yaml"; then
            config=$d/konform.yaml
            selector=$((selector | 0x40))
        fi
        out="$fuzz/corpus/pipeline/seed-${d//\//_}"
        {
            printf "\\x$(printf %02x "$selector")"
            first=1
            for f in "${parts[@]}" ${config:+"$config"}; do
                [[ $first -eq 1 ]] || printf '\xff'
                first=0
                cat "$f"
            done
        } >"$out"
        if [[ $(wc -c <"$out") -gt 65536 ]]; then rm -f "$out"; fi
    done
fi

# --- run --------------------------------------------------------------------------------------
mkdir -p "$fuzz/artifacts"
summary=()
failed=0
for t in "${targets[@]}"; do
    log="$fuzz/artifacts/$t.log"
    mkdir -p "$fuzz/artifacts/$t"
    args=(
        -artifact_prefix="$fuzz/artifacts/$t/"
        -max_total_time="$seconds"
        -rss_limit_mb="${FUZZ_RSS_LIMIT_MB:-2048}"
        -timeout="${FUZZ_TIMEOUT:-10}"
        -max_len="$(max_len_of "$t")"
        -print_final_stats=1
    )
    dict=$(dict_of "$t")
    if [[ -n $dict && -f $fuzz/dict/$dict.dict ]]; then
        args+=(-dict="$fuzz/dict/$dict.dict")
    fi
    echo "== fuzzing $t for ${seconds}s (log: ${log#"$root"/})"
    start=$(date +%s)
    set +e
    # The same environment `cargo fuzz run` sets up.
    ASAN_OPTIONS=${ASAN_OPTIONS:-detect_odr_violation=0} RUST_BACKTRACE=1 \
        "$bin_dir/$t" "${args[@]}" "$fuzz/corpus/$t" >"$log" 2>&1
    rc=$?
    set -e
    elapsed=$(($(date +%s) - start))
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    execs=${execs:-?}
    if [[ $rc -eq 0 ]]; then
        result=ok
    else
        failed=1
        artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
        kind=CRASH
        if grep -q 'ERROR: libFuzzer: timeout' "$log"; then
            kind="CRASH (timeout)"
        elif grep -q 'ERROR: libFuzzer: out-of-memory' "$log"; then
            kind="CRASH (out-of-memory)"
        elif ! grep -q 'INFO: Running with entropic power schedule\|INFO: Seed:' "$log"; then
            kind="BUILD/START FAILED"
        fi
        result="$kind ${artifact:-(no artifact; see ${log#"$root"/})}"
        tail -n 40 "$log" >&2
    fi
    line=$(printf '%-9s %6ss %12s execs  %s' "$t" "$elapsed" "$execs" "$result")
    echo "$line"
    summary+=("$line")
done

echo
echo "== summary (target, seconds, executions, result)"
printf '%s\n' "${summary[@]}"
exit "$failed"
