#!/usr/bin/env bash
# Benchmark: sovscan against its parse-only floor and against Checkov (and `trivy config` when
# installed), on generated corpora of two sizes. Wall time, CPU time and peak RSS are medians of
# RUNS runs measured with /usr/bin/time -v. Results go to bench/results/<date>.md and .json, and
# the table into README.md.
#
#   scripts/bench.sh              20 MB and 200 MB corpora, Checkov on both (about 70 minutes:
#                                 Checkov's Kubernetes and Terraform parts of the 200 MB corpus
#                                 run to the timeout)
#   scripts/bench.sh --smoke      a 1 MB corpus, the scan only: checks the planted findings
#   scripts/bench.sh --report RAW the tables again from the measurements of a run (its raw.tsv)
#
# Settings (environment): RUNS (3), SIZES ("20MB 200MB"), BENCH_DIR (/tmp/sovscan-bench),
# CHECKOV_TIMEOUT seconds per framework (1500), CHECKOV_SIZES ("20MB 200MB", of SIZES; empty
# for none), CHECKOV_FRAMEWORKS
# ("kubernetes terraform cloudformation arm"), SNAPSHOT_SIZE (200MB, one AWS Config snapshot of
# that size; empty to skip), PLAN_SIZE (20MB, one `terraform show -json` plan of that size, on
# one line as Terraform writes it; empty to skip).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

SMOKE=0
if [ "${1:-}" = "--smoke" ]; then SMOKE=1; fi
RUNS=${RUNS:-3}
SIZES=${SIZES:-"20MB 200MB"}
BENCH_DIR=${BENCH_DIR:-/tmp/sovscan-bench}
CHECKOV_TIMEOUT=${CHECKOV_TIMEOUT:-1500}
CHECKOV_SIZES=${CHECKOV_SIZES-"20MB 200MB"}
CHECKOV_FRAMEWORKS=${CHECKOV_FRAMEWORKS:-"kubernetes terraform cloudformation arm"}
SNAPSHOT_SIZE=${SNAPSHOT_SIZE-200MB}
PLAN_SIZE=${PLAN_SIZE-20MB}
if [ "$SMOKE" = 1 ]; then
  RUNS=1; SIZES="1MB"; CHECKOV_SIZES=""; SNAPSHOT_SIZE=""; PLAN_SIZE="1MB"
  BENCH_DIR=$(mktemp -d /tmp/sovscan-smoke.XXXXXX)
  trap 'rm -rf "$BENCH_DIR"' EXIT
fi
mkdir -p "$BENCH_DIR"

if command -v trivy >/dev/null 2>&1; then
  TRIVY="installed"
else
  TRIVY="not installed: trivy is not on PyPI or in the distribution's packages here, so it is not measured"
fi
if [ "${1:-}" = "--report" ]; then
  python3 scripts/bench_report.py "${2:?--report needs the raw.tsv of a run}" \
    "bench/results/$(date -u +%Y-%m-%d)" "$CHECKOV_TIMEOUT" "$TRIVY" "$RUNS"
  exit
fi

cargo build --quiet --release --locked --bins
SOVSCAN="$ROOT/target/release/sovscan"
GEN="$ROOT/target/release/gen-corpus"
TIME=/usr/bin/time
if [ ! -x "$TIME" ]; then echo "bench: /usr/bin/time is needed (apt-get install time)"; exit 2; fi

RAW="$BENCH_DIR/raw.tsv"
: > "$RAW"

# measure LABEL SIZE CMD...: RUNS runs, one line each in raw.tsv:
# label size wall_s cpu_s rss_kb exit.
measure() {
  local label=$1 size=$2; shift 2
  local i log code
  for ((i = 1; i <= RUNS; i++)); do
    log="$BENCH_DIR/time.log"
    # The report of the run before is removed, not written over: its pages, not yet on disk,
    # are dropped instead of being written out while this run writes its own.
    rm -f "$BENCH_DIR"/report.*
    set +e
    "$TIME" -v "$@" > "$BENCH_DIR/out.txt" 2> "$log"
    code=$?
    set -e
    python3 - "$log" "$label" "$size" "$code" >> "$RAW" <<'PY'
import re, sys
text = open(sys.argv[1], errors="replace").read()
def field(name):
    m = re.search(re.escape(name) + r":\s*(.+)", text)
    return m.group(1).strip() if m else "0"
wall = field("Elapsed (wall clock) time (h:mm:ss or m:ss)")
secs = 0.0
for part in wall.split(":"):
    secs = secs * 60 + float(part)
cpu = float(field("User time (seconds)")) + float(field("System time (seconds)"))
rss = int(field("Maximum resident set size (kbytes)"))
# `timeout` exits 124 when it stopped the command.
code = int(sys.argv[4])
print(f"{sys.argv[2]}\t{sys.argv[3]}\t{secs:.3f}\t{cpu:.3f}\t{rss}\t{code}")
PY
  done
}

# floor_and_scan SIZE CORPUS: the parse-only floor and the JSON scan, run by turns (floor,
# scan, floor, scan, ...), so that a change in the machine's speed while they run (a shared
# machine's neighbours) falls on both alike and not on their ratio. The scan's report is
# left in report.json.
floor_and_scan() {
  local size=$1 corpus=$2 i
  for ((i = 1; i <= RUNS; i++)); do
    RUNS=1 measure "sovscan parse-only" "$size" "$SOVSCAN" scan --parse-only "$corpus"
    RUNS=1 measure "sovscan scan" "$size" "$SOVSCAN" scan "$corpus" --format json -o "$BENCH_DIR/report.json"
  done
}

# warm CORPUS: reads it once, untimed, so that the runs measured after it, the floor's first
# among them, find its files in the page cache alike (a cold first run of the floor made it
# look slower, and the scan's ratio to it better, than they are).
warm() {
  "$SOVSCAN" scan --parse-only "$1" > /dev/null
}

# check_planted CORPUS REPORT: the scan's RES-001 findings are exactly the planted ones.
check_planted() {
  python3 - "$1" "$2" <<'PY'
import json, os, sys
corpus, report = sys.argv[1], sys.argv[2]
# A finding of a file of one line (a plan) is planted at a column too.
planted = {(p["rule"], p["path"], p["line"], p.get("column"))
           for p in json.load(open(os.path.join(corpus, "planted.json")))}
by_column = {path for _, path, _, column in planted if column is not None}
found = set()
for f in json.load(open(report))["findings"]:
    if f["rule_id"] not in {r for r, _, _, _ in planted}:
        continue
    path = os.path.relpath(f["location"]["path"], corpus)
    column = f["location"]["start_column"] if path in by_column else None
    found.add((f["rule_id"], path, f["location"]["start_line"], column))
missing, extra = planted - found, found - planted
for m in sorted(missing, key=str)[:10]:
    print("missing planted finding:", *(x for x in m if x is not None))
for e in sorted(extra, key=str)[:10]:
    print("unexpected finding:", *(x for x in e if x is not None))
print(f"planted findings: {len(planted)}, found {len(planted & found)}, unexpected {len(extra)}")
sys.exit(1 if missing or extra else 0)
PY
}

# generated_input LABEL DIR TITLE GEN-ARGS...: writes DIR with gen-corpus unless it is there,
# measures its floor and scan (the scan alone in the smoke run) and checks the planted
# findings in the scan's report.
generated_input() {
  local label=$1 dir=$2 title=$3; shift 3
  if [ ! -f "$dir/planted.json" ]; then
    rm -rf "$dir"
    "$GEN" --seed 1 "$@" "$dir"
  fi
  if [ "$SMOKE" = 0 ]; then
    warm "$dir"
    floor_and_scan "$label" "$dir"
  else
    measure "sovscan scan" "$label" "$SOVSCAN" scan "$dir" --format json -o "$BENCH_DIR/report.json"
  fi
  echo "== $title"
  check_planted "$dir" "$BENCH_DIR/report.json"
}

for size in $SIZES; do
  corpus="$BENCH_DIR/corpus-$size"
  generated_input "$size" "$corpus" "$size corpus" --size "$size"
  if [ "$SMOKE" = 0 ]; then
    # JUnit lists every resource, not only those with findings: its own row.
    measure "sovscan scan, JUnit" "$size" "$SOVSCAN" scan "$corpus" --format junit -o "$BENCH_DIR/report.xml"
  fi
done

# One plan of all an estate's resources: a unit of one file, read on one core.
if [ -n "$PLAN_SIZE" ]; then
  generated_input "$PLAN_SIZE plan" "$BENCH_DIR/plan-$PLAN_SIZE" "$PLAN_SIZE Terraform plan" \
    --size "$PLAN_SIZE" --terraform-plan
fi

# One small file, as an editor hook or a pre-commit run scans it: start-up dominates. Too short
# for /usr/bin/time's 10 ms resolution, so timed here over SMALL_RUNS runs (median), next to
# `--version`, the cost of merely starting the binary.
small_file() {
  python3 - "$RAW" "${SMALL_RUNS:-50}" "$@" <<'PY'
import resource, statistics, subprocess, sys, time
raw, runs, label, size, cmd = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5:]
walls, cpus = [], []
for _ in range(runs):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    code = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
    walls.append(time.perf_counter() - start)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
with open(raw, "a") as out:
    # One line, the medians: the table's median of one line is that line.
    out.write(f"{label}\t{size}\t{statistics.median(walls):.4f}\t{statistics.median(cpus):.4f}\t{rss}\t{code}\n")
print(f"{label}: median {statistics.median(walls) * 1000:.1f} ms over {runs} runs")
PY
}
SMALL=fixtures/demo/k8s/storefront.yaml
small_file "sovscan --version" "-" "$SOVSCAN" --version
small_file "sovscan scan, one small file" "$(wc -c < "$SMALL") B" "$SOVSCAN" scan "$SMALL"

if [ "$SMOKE" = 1 ]; then
  echo "bench smoke: ok"
  exit 0
fi

if [ -n "$SNAPSHOT_SIZE" ]; then
  snap="$BENCH_DIR/snapshot-$SNAPSHOT_SIZE"
  generated_input "$SNAPSHOT_SIZE snapshot" "$snap" "$SNAPSHOT_SIZE AWS Config snapshot" \
    --size "$SNAPSHOT_SIZE" --aws-config-snapshot
  measure "sovscan scan, JUnit" "$SNAPSHOT_SIZE snapshot" "$SOVSCAN" scan "$snap" --format junit -o "$BENCH_DIR/report.xml"
fi

# Peers: Checkov from PyPI in a local virtual environment, one framework at a time, offline.
VENV="$ROOT/.venv-peers"
if [ -n "$CHECKOV_SIZES" ] && [ ! -x "$VENV/bin/checkov" ]; then
  python3 -m venv "$VENV" && "$VENV/bin/pip" install --quiet checkov || echo "bench: checkov did not install"
fi
if [ -x "$VENV/bin/checkov" ]; then
  for size in $CHECKOV_SIZES; do
    corpus="$BENCH_DIR/corpus-$size"
    if [ ! -f "$corpus/planted.json" ]; then
      echo "bench: no $size corpus (CHECKOV_SIZES names a size SIZES does not): no peers on it"
      continue
    fi
    for framework in $CHECKOV_FRAMEWORKS; do
      case $framework in kubernetes) dir=k8s ;; *) dir=$framework ;; esac
      # The same part of the corpus, scanned by sovscan for the side-by-side ratio.
      measure "sovscan scan $framework" "$size" "$SOVSCAN" scan "$corpus/$dir" --format json -o "$BENCH_DIR/part.json"
      RUNS_SAVED=$RUNS; RUNS=1
      CHECKOV_PARALLELIZATION_TYPE=none measure "checkov $framework" "$size" \
        timeout "$CHECKOV_TIMEOUT" "$VENV/bin/checkov" --quiet --compact --skip-download \
        --framework "$framework" -d "$corpus/$dir" -o json
      RUNS=$RUNS_SAVED
    done
  done
fi

# trivy config, when installed.
if [ "$TRIVY" = installed ]; then
  for size in $CHECKOV_SIZES; do
    corpus="$BENCH_DIR/corpus-$size"
    [ -f "$corpus/planted.json" ] || continue
    RUNS_SAVED=$RUNS; RUNS=1
    measure "trivy config" "$size" timeout "$CHECKOV_TIMEOUT" trivy config --offline-scan --skip-check-update -q "$corpus"
    RUNS=$RUNS_SAVED
  done
fi

date=$(date -u +%Y-%m-%d)
mkdir -p bench/results
python3 scripts/bench_report.py "$RAW" "bench/results/$date" "$CHECKOV_TIMEOUT" "$TRIVY" "$RUNS"
