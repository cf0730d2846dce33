"""The benchmark's tables, from the measurements `scripts/bench.sh` wrote (raw.tsv: label, corpus,
wall s, CPU s, peak RSS kB, exit code; one line per run): bench/results/<date>.{md,json} and the
README's table.

    python3 scripts/bench_report.py RAW OUT CHECKOV_TIMEOUT TRIVY RUNS
"""
import json, statistics, sys, re, platform, os
raw, out, timeout, trivy, runs = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
rows = {}
for line in open(raw):
    label, size, wall, cpu, rss, code = line.rstrip("\n").split("\t")
    rows.setdefault((label, size), []).append((float(wall), float(cpu), int(rss), int(code)))
results = []
for (label, size), runs_ in rows.items():
    unfinished = any(c == 124 for *_, c in runs_)
    results.append({
        "tool": label, "corpus": size, "runs": len(runs_),
        "wall_s": statistics.median(r[0] for r in runs_),
        "cpu_s": statistics.median(r[1] for r in runs_),
        "peak_rss_mb": round(statistics.median(r[2] for r in runs_) / 1024, 1),
        "wall_s_range": [min(r[0] for r in runs_), max(r[0] for r in runs_)],
        "peak_rss_mb_range": [round(min(r[2] for r in runs_) / 1024, 1), round(max(r[2] for r in runs_) / 1024, 1)],
        "finished": not unfinished,
    })
def floor(size):
    for r in results:
        if r["tool"] == "sovscan parse-only" and r["corpus"] == size:
            return r["wall_s"]
for r in results:
    f = floor(r["corpus"])
    r["x_parse_floor"] = round(r["wall_s"] / f, 2) if f and r["tool"] == "sovscan scan" else None
    if r["tool"].startswith("checkov "):
        fw = r["tool"].split(" ", 1)[1]
        mine = next((s for s in results if s["tool"] == f"sovscan scan {fw}" and s["corpus"] == r["corpus"]), None)
        if mine and mine["wall_s"] > 0:
            # Unfinished: at least the time it was given.
            r["x_slower_than_sovscan"] = round(r["wall_s"] / mine["wall_s"])
lines = [
    "| tool | corpus | wall (s) | CPU (s) | peak RSS (MB) | note |",
    "|---|---|---:|---:|---:|---|",
]
for r in results:
    note = []
    if r.get("x_parse_floor"):
        note.append(f"{r['x_parse_floor']}x the parse floor")
    if not r["finished"]:
        note.append(f"did not finish in {timeout} s: over {r.get('x_slower_than_sovscan')}x sovscan's time")
    elif r.get("x_slower_than_sovscan"):
        note.append(f"{r['x_slower_than_sovscan']}x sovscan's time")
    digits = 4 if r["wall_s"] < 0.1 else 2
    lines.append(f"| {r['tool']} | {r['corpus']} | {r['wall_s']:.{digits}f} | {r['cpu_s']:.{digits}f} | {r['peak_rss_mb']} | {'; '.join(note)} |")
table = "\n".join(lines)
# How the scan grows from the smallest corpus to the largest, and the peers' time on the part
# of the corpus they read, all from the rows above.
def row(tool, corpus):
    return next((r for r in results if r["tool"] == tool and r["corpus"] == corpus), None)
sizes = sorted((int(r["corpus"][:-2]), r["corpus"]) for r in results
               if r["tool"] == "sovscan scan" and re.fullmatch(r"[0-9]+MB", r["corpus"]))
summary = []
if len(sizes) >= 2:
    (small_mb, small), (large_mb, large) = sizes[0], sizes[-1]
    a, b = row("sovscan scan", small), row("sovscan scan", large)
    summary.append(
        f"From the {small} corpus to the {large} one ({large_mb / small_mb:g}x the input), "
        f"sovscan's peak RSS grows {b['peak_rss_mb'] / a['peak_rss_mb']:.2f}x and its wall time "
        f"{b['wall_s'] / a['wall_s']:.2f}x.")
def peers_line(corpus, frameworks):
    """Checkov's time on the part of `corpus` in `frameworks` against sovscan's. A framework
    Checkov did not finish counts with the time it was given: the ratio is then a bound."""
    peers = [row(f"checkov {fw}", corpus) for fw in frameworks]
    mine = [row(f"sovscan scan {fw}", corpus) for fw in frameworks]
    if not frameworks or not all(peers) or not all(mine):
        return None
    theirs, ours = sum(r["wall_s"] for r in peers), sum(r["wall_s"] for r in mine)
    names = " + ".join(frameworks)
    unfinished = [fw for fw, r in zip(frameworks, peers) if not r["finished"]]
    if not unfinished:
        return (f"Checkov on the {names} part of the {corpus} corpus: {theirs:.2f} s against "
                f"sovscan's {ours:.2f} s ({theirs / ours:.0f}x).")
    return (f"Checkov on the {names} part of the {corpus} corpus: over {theirs:.2f} s "
            f"({' and '.join(unfinished)} did not finish in {timeout} s) against sovscan's "
            f"{ours:.2f} s (over {theirs / ours:.0f}x).")
for corpus in sorted({r["corpus"] for r in results if r["tool"].startswith("checkov ")},
                     key=lambda c: int(c[:-2]) if re.fullmatch(r"[0-9]+MB", c) else 0):
    measured = [r["tool"].split(" ", 1)[1] for r in results
                if r["tool"].startswith("checkov ") and r["corpus"] == corpus]
    # The Kubernetes and Terraform part first: the one the speed target names.
    kubernetes_terraform = [fw for fw in ("kubernetes", "terraform") if fw in measured]
    for part in ([kubernetes_terraform] if len(kubernetes_terraform) == 2 else []) + [measured]:
        line = peers_line(corpus, part)
        if line and line not in summary:
            summary.append(line)
if summary:
    table += "\n\n" + "\n".join(summary)
meta = f"{os.cpu_count()} cores, medians of {runs} runs (peers: 1 run); trivy: {trivy}."
json.dump({"machine": meta, "results": results, "summary": summary}, open(out + ".json", "w"), indent=2)
open(out + ".md", "w").write(f"# Benchmark {os.path.basename(out)}\n\n{meta}\n\n{table}\n")
readme = open("README.md").read()
start, end = "<!-- bench:start -->", "<!-- bench:end -->"
if start in readme and end in readme:
    head, rest = readme.split(start, 1)
    _, tail = rest.split(end, 1)
    readme = f"{head}{start}\n{meta}\n\n{table}\n{end}{tail}"
    open("README.md", "w").write(readme)
print(table)
