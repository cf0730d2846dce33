#!/usr/bin/env bash
# Runs every fuzz target for SECONDS (default 600) on one core, seeded from fixtures/.
# Needs cargo-fuzz (`cargo install cargo-fuzz`); RUSTC_BOOTSTRAP lets the stable toolchain
# build with the sanitizer flags cargo-fuzz passes. Crashes land in fuzz/artifacts/<target>/;
# each one becomes a regression test in tests/.
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]
# JOBS (default 1) targets run side by side, each on one core. The targets are built once and
# the fuzzers started directly, so a change to the sources during a run does not rebuild them.
set -eu
cd "$(dirname "$0")/.."
seconds=${1:-600}
[ $# -gt 0 ] && shift
export RUSTC_BOOTSTRAP=1

seed() {
    # seed TARGET PATTERN...: copies fixture files matching the patterns into the corpus.
    target=$1
    shift
    mkdir -p "fuzz/corpus/$target"
    for pattern in "$@"; do
        find fixtures tests -type f -name "$pattern" -size -64k 2>/dev/null |
            while read -r file; do
                cp "$file" "fuzz/corpus/$target/$(printf '%s' "$file" | tr '/' '_')"
            done
    done
}

seed load_yaml '*.yaml' '*.yml'
seed load_json '*.json'
seed load_hcl '*.tf' '*.tfvars'
seed load_cloudformation '*.yaml' '*.yml' '*.template' '*.json'
seed load_aws_config '*.json'
seed load_snapshot '*.json'
seed load_compressed '*.gz'
seed eval_arm '*.json'
seed eval_cloudformation '*.yaml' '*.yml'
seed eval_hcl '*.tf'
mkdir -p fuzz/corpus/rule_file
find rules -name "*.yaml" -size -64k | while read -r file; do
    cp "$file" "fuzz/corpus/rule_file/$(printf "%s" "$file" | tr "/" "_")"
done

targets=${*:-$(cargo fuzz list --fuzz-dir fuzz)}
jobs=${JOBS:-1}
cargo fuzz build --fuzz-dir fuzz
bin=fuzz/target/$(rustc -vV | sed -n 's/^host: //p')/release
mkdir -p fuzz/logs
status=0
run() {
    target=$1
    mkdir -p "fuzz/artifacts/$target"
    echo "== $target: ${seconds}s (log: fuzz/logs/$target.log)"
    if "$bin/$target" -artifact_prefix="fuzz/artifacts/$target/" -max_total_time="$seconds" \
        -rss_limit_mb=2048 -timeout=20 -print_final_stats=1 "fuzz/corpus/$target" \
        > "fuzz/logs/$target.log" 2>&1; then
        echo "== $target: $(grep -E '^Done' "fuzz/logs/$target.log")"
    else
        echo "== $target: FAILED, see fuzz/logs/$target.log and fuzz/artifacts/$target/"
        return 1
    fi
}
running=0
for target in $targets; do
    run "$target" &
    running=$((running + 1))
    if [ "$running" -ge "$jobs" ]; then
        wait -n 2>/dev/null || status=1
        running=$((running - 1))
    fi
done
while [ "$running" -gt 0 ]; do
    wait -n 2>/dev/null || status=1
    running=$((running - 1))
done
exit $status
