#!/bin/sh
# Runs every fuzz target for SECONDS (default 600) on one core, seeded from fixtures/.
# Needs cargo-fuzz (`cargo install cargo-fuzz`); RUSTC_BOOTSTRAP lets the stable toolchain
# build with the sanitizer flags cargo-fuzz passes. Crashes land in fuzz/artifacts/<target>/;
# each one becomes a regression test in tests/.
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]
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
seed load_compressed '*.gz'
seed eval_arm '*.json'
seed eval_cloudformation '*.yaml' '*.yml'
seed eval_hcl '*.tf'
mkdir -p fuzz/corpus/rule_file
find rules -name "*.yaml" -size -64k | while read -r file; do
    cp "$file" "fuzz/corpus/rule_file/$(printf "%s" "$file" | tr "/" "_")"
done

targets=${*:-$(cargo fuzz list --fuzz-dir fuzz)}
cargo fuzz build --fuzz-dir fuzz
for target in $targets; do
    echo "== $target: ${seconds}s"
    cargo fuzz run --fuzz-dir fuzz "$target" "fuzz/corpus/$target" -- \
        -max_total_time="$seconds" -jobs=1 -workers=1 -rss_limit_mb=2048 -timeout=20 \
        -print_final_stats=1
done
