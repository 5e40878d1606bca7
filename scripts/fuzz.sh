#!/usr/bin/env bash
# Fuzzes linedesk's parsers of outside input with cargo-fuzz (libFuzzer, nightly).
#
# usage: scripts/fuzz.sh [SECONDS] [TARGET...]
#   SECONDS  how long each target runs; default 10 (the brief CI run)
#   TARGET   webhook_body signature frames upload path_params; default all
#
# Each target starts from its committed seeds in fuzz/corpus/<target>/ and leaves them as they
# are: libFuzzer writes new inputs to the first corpus directory it is given, so that is a
# temporary one and the seeds come second. With LINEDESK_FUZZ_GROW=1 the first directory is
# fuzz/corpus-grown/<target>/ instead (ignored by git), so long local runs build on each other.
#
# One process per target (no -jobs, -workers or -fork). libFuzzer prints the random seed it
# used ("INFO: Seed: N"); there is no need to pin one, because a crash is replayed from its
# artifact file, not from the seed. On a crash the artifact's path and the command that
# replays it are printed, the other targets still run, and the script exits 1.
set -euo pipefail

cd "$(dirname "$0")/.."
root=$(pwd)

all_targets=(webhook_body signature frames upload path_params)
seconds=10
if [[ $# -gt 0 && $1 =~ ^[0-9]+$ ]]; then
    seconds=$1
    shift
fi
targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then
    targets=("${all_targets[@]}")
fi
for t in "${targets[@]}"; do
    if [[ ! -f fuzz/fuzz_targets/$t.rs ]]; then
        echo "fuzz.sh: no target '$t' (targets: ${all_targets[*]})" >&2
        exit 2
    fi
done

if ! rustup run nightly rustc --version >/dev/null 2>&1; then
    echo "fuzz.sh: the nightly toolchain is missing: rustup toolchain install nightly" >&2
    exit 2
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi

# Largest input per target: webhook bodies and frame batches stay well under the relay's
# 1 MiB limits (coverage comes from shape, not size); uploads up to 1 MiB so decoders see
# real images; identifiers are short.
max_len_of() {
    case $1 in
        webhook_body | frames) echo 65536 ;;
        upload) echo 1048576 ;;
        signature) echo 4096 ;;
        path_params) echo 1024 ;;
    esac
}

# Longest a single input may take before it counts as a hang. Decoding an image is the slow
# case (image's default allocation limit is 512 MiB).
timeout_of() {
    case $1 in
        upload) echo 60 ;;
        *) echo 20 ;;
    esac
}

# LINEDESK_FUZZ_DEV=1 (the test command's brief run): targets built without optimisation, which
# compiles in about half the time; long runs keep cargo-fuzz's optimised build.
build_flags=()
if [[ ${LINEDESK_FUZZ_DEV:-0} == 1 ]]; then
    build_flags=(--dev)
fi

scratch=$(mktemp -d "${TMPDIR:-/tmp}/linedesk-fuzz.XXXXXX")
trap 'rm -rf "$scratch"' EXIT

failed=()
for t in "${targets[@]}"; do
    seeds="$root/fuzz/corpus/$t"
    if [[ ${LINEDESK_FUZZ_GROW:-0} == 1 ]]; then
        grown="$root/fuzz/corpus-grown/$t"
    else
        grown="$scratch/$t"
    fi
    mkdir -p "$grown" "$root/fuzz/artifacts/$t"
    stamp="$scratch/$t.stamp"
    touch "$stamp"
    echo "== $t: ${seconds}s, seeds in fuzz/corpus/$t" >&2
    status=0
    cargo +nightly fuzz run ${build_flags[@]+"${build_flags[@]}"} --fuzz-dir "$root/fuzz" "$t" "$grown" "$seeds" -- \
        -max_total_time="$seconds" \
        -max_len="$(max_len_of "$t")" \
        -timeout="$(timeout_of "$t")" \
        -rss_limit_mb=2048 \
        -print_final_stats=1 ||
        status=$?
    if [[ $status -ne 0 ]]; then
        failed+=("$t")
        mapfile -t found < <(find "$root/fuzz/artifacts/$t" -type f -newer "$stamp" | sort)
        if [[ ${#found[@]} -eq 0 ]]; then
            echo "fuzz.sh: $t failed (exit $status) without an artifact: a build error?" >&2
        fi
        for a in "${found[@]}"; do
            echo "fuzz.sh: $t crashed; input in ${a#"$root"/}" >&2
            echo "  replay: cargo +nightly fuzz run --fuzz-dir fuzz $t ${a#"$root"/}" >&2
            echo "  shrink: cargo +nightly fuzz tmin --fuzz-dir fuzz $t ${a#"$root"/}" >&2
        done
    fi
done

if [[ ${#failed[@]} -ne 0 ]]; then
    echo "fuzz.sh: failed: ${failed[*]}" >&2
    exit 1
fi
echo "fuzz.sh: no crash in ${targets[*]} (${seconds}s each)" >&2
