#!/usr/bin/env python3
"""Summary of one scripts/bench.sh invocation: a table on stdout and one JSON file.

Usage (called by bench.sh): bench-report.py RESULTS_DIR OUT_JSON DATA_DIR DOTNET_VERSION COMMIT TREE WORKLOAD...
RESULTS_DIR holds one folder per (workload, mode) with meta.json (written by bench.sh) and, for a run that
succeeded, the run's manifest.json; DATA_DIR/<workload>/facts.json describes each workload.
"""
import json
import os
import platform
import re
import sys
from datetime import datetime, timezone

GIB = 1024 ** 3

# Issue 7, "Targets". Each applies to some workloads and kernel modes: the defaults (auto, or "none" on a build
# without the setting) or the pure SQL path (off).
DEFAULT_MODES = ("auto", "none")
TARGETS = [
    # workload, modes, label, measure, limit, is_aim
    ("M", DEFAULT_MODES, "whole run < 30 s", "wall_seconds", 30, False),
    ("M", DEFAULT_MODES, "peak RSS < 4 GiB", "peak_rss_bytes", 4 * GIB, False),
    ("M-skewed", DEFAULT_MODES, "whole run < 30 s (M target)", "wall_seconds", 30, False),
    ("M-skewed", DEFAULT_MODES, "peak RSS < 4 GiB (M target)", "peak_rss_bytes", 4 * GIB, False),
    ("S", DEFAULT_MODES, "whole run with evaluation < 20 s", "wall_seconds", 20, False),
    ("S", ("off",), "pruned SQL path on 1M events < 60 s", "wall_seconds", 60, False),
    ("L", DEFAULT_MODES, "peak RSS < 16 GiB", "peak_rss_bytes", 16 * GIB, False),
    ("L", DEFAULT_MODES, "whole run ~10 min (aim)", "wall_seconds", 600, True),
]


def machine(dotnet, commit, tree):
    mem = {}
    try:
        for line in open("/proc/meminfo"):
            key, value = line.split(":", 1)
            mem[key] = int(value.split()[0]) * 1024
    except OSError:
        pass
    cpu = platform.processor()
    try:
        cpu = next(l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {
        "cores": len(os.sched_getaffinity(0)),
        "cpu": cpu,
        "ram_bytes": mem.get("MemTotal"),
        "ram_gib": round(mem.get("MemTotal", 0) / GIB, 1),
        "available_gib_at_report": round(mem.get("MemAvailable", 0) / GIB, 1),
        "load_average_at_report": list(os.getloadavg()),
        "os": platform.platform(),
        "dotnet": dotnet,
        "commit": commit,
        "tree": tree,
    }


SIGNALS = {2: "SIGINT", 6: "SIGABRT", 9: "SIGKILL", 15: "SIGTERM"}


def run_status(meta):
    rc = meta["exit_code"]
    if rc == 0:
        return "ok"
    if meta["timed_out"]:
        return "timeout"
    if rc > 128:
        return f"killed ({SIGNALS.get(rc - 128, 'signal ' + str(rc - 128))})"
    return f"failed ({rc})"


def load_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


STAGE_LOG = re.compile(r"Stage (\S+) on \S+: (\d+) rows in ([0-9.]+) s")


def stages_of(manifest, log):
    """Per-stage rows and seconds: from the manifest, or for a run that failed or timed out, from its log lines."""
    if manifest:
        return [{"stage": s["stage"], "rows": s["rows"], "seconds": s["seconds"]} for s in manifest.get("stages", [])]
    stages = []
    try:
        for line in open(log, errors="replace"):
            m = STAGE_LOG.search(line)
            if m:
                stages.append({"stage": m.group(1), "rows": int(m.group(2)), "seconds": float(m.group(3))})
    except OSError:
        pass
    return stages


def fmt_int(n):
    return "-" if n is None else f"{n:,}"


def fmt_s(s):
    return "-" if s is None else f"{s:.1f}" if s >= 10 else f"{s:.2f}"


def fmt_bytes(b):
    return "-" if b is None else f"{b / GIB:.2f} GiB" if b >= GIB else f"{b / 1024 ** 2:.0f} MiB"


def main():
    results_dir, out_json, data_dir, dotnet, commit, tree, *workloads = sys.argv[1:]
    facts = {w: load_json(os.path.join(data_dir, w, "facts.json")) for w in workloads}

    runs = []
    for name in sorted(os.listdir(results_dir)):
        meta = load_json(os.path.join(results_dir, name, "meta.json"))
        if meta is None:
            continue
        manifest = load_json(os.path.join(results_dir, name, "manifest.json"))
        w, mode = meta["workload"], meta["mode"]
        events = (facts.get(w) or {}).get("facts", {}).get("rows")
        status = run_status(meta)
        wall = meta["wall_seconds"]
        rss = meta["peak_rss_kib"] * 1024 if meta["peak_rss_kib"] is not None else None
        run = {
            "workload": w,
            "mode": mode,
            "status": status,
            "exit_code": meta["exit_code"],
            "wall_seconds": wall,
            "events": events,
            "events_per_second": round(events / wall) if events and wall and status == "ok" else None,
            "cpu_seconds": meta.get("cpu_seconds"),
            "peak_rss_bytes": rss,
            "peak_rss_gib": round(rss / GIB, 3) if rss is not None else None,
            "load_average_before": meta["load_average_before"],
            "stages": stages_of(manifest, os.path.join(results_dir, name, "run.log")),
            "stages_from": "manifest" if manifest else "log",
            "row_counts": (manifest or {}).get("row_counts", {}),
            "engine": (manifest or {}).get("engine"),
            "versions": (manifest or {}).get("versions"),
            "arguments": meta["arguments"],
            "extra_arguments": meta.get("extra_arguments", []),
            "log": os.path.join(results_dir, name, "run.log"),
        }
        run["targets"] = []
        for tw, modes, label, measure, limit, aim in TARGETS:
            if tw != w or mode not in modes:
                continue
            value = run[measure]
            # A run that did not finish already missed a limit it passed; below the limit it tells nothing.
            met = None if value is None else value < limit
            if status != "ok" and met:
                met = None
            run["targets"].append({"target": label, "measure": measure, "limit": limit, "measured": value, "met": met, "aim": aim})
        runs.append(run)
    order = {w: i for i, w in enumerate(workloads)}
    runs.sort(key=lambda r: (order.get(r["workload"], 99), r["mode"]))

    report = {
        "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": machine(dotnet, commit, tree),
        "note": "shared machine: times are upper bounds; load_average_before says how busy it was",
        "workloads": facts,
        "runs": runs,
    }
    tmp = out_json + ".tmp"
    with open(tmp, "w") as f:
        json.dump(report, f, indent=2)
        f.write("\n")
    os.replace(tmp, out_json)

    m = report["machine"]
    print(f"SparkReco benchmark  {report['finished_at']}  commit {commit} ({tree})  .NET {dotnet}")
    print(f"machine: {m['cores']} cores ({m['cpu']}), {m['ram_gib']} GiB RAM, load now {m['load_average_at_report'][0]:.2f}"
          " - shared machine, times are upper bounds")
    for w in workloads:
        f = facts.get(w)
        if f:
            ref = {True: ", = workload-m.md reference", False: ", NOT the workload-m.md reference"}.get(f.get("reference_match"), "")
            ff = f["facts"]
            print(f"  {w:<9} {ff['rows']:>12,} events {ff['users']:>10,} users {ff['items']:>8,} items, "
                  f"{ff['distinct_pairs']:,} pairs, max {ff['max_items_per_user']:,} items/user, "
                  f"{ff['ordered_pair_increments']:,} pair increments{ref}")
    print()

    header = f"{'workload':<9} {'kernels':<7} {'status':<16} {'wall s':>8} {'CPU s':>8} {'events/s':>11} {'peak RSS':>10} {'load':>5}  targets"
    print(header)
    print("-" * len(header))
    for r in runs:
        marks = []
        for t in r["targets"]:
            shown = fmt_s(t["measured"]) + " s" if t["measure"] == "wall_seconds" else fmt_bytes(t["measured"])
            verdict = "n/a (did not finish)" if t["met"] is None else ("aim met" if t["aim"] else "met") if t["met"] else ("aim missed" if t["aim"] else "MISSED")
            marks.append(f"{t['target']}: {shown} {verdict}")
        print(f"{r['workload']:<9} {r['mode']:<7} {r['status']:<16} {fmt_s(r['wall_seconds']):>8} {fmt_s(r.get('cpu_seconds')):>8} {fmt_int(r['events_per_second']):>11} "
              f"{fmt_bytes(r['peak_rss_bytes']):>10} {r['load_average_before']:>5.2f}  {'; '.join(marks)}")

    for r in runs:
        if r["extra_arguments"]:
            print(f"note: {r['workload']}/{r['mode']} ran with extra arguments {' '.join(r['extra_arguments'])}; "
                  "the targets are meant for the defaults")

    # Per-stage seconds and rows: one table per workload, a column per kernel mode.
    for w in workloads:
        wr = [r for r in runs if r["workload"] == w and r["stages"]]
        if not wr:
            continue
        stages = []
        for r in wr:
            for s in r["stages"]:
                if s["stage"] not in stages:
                    stages.append(s["stage"])
        by = {r["mode"]: {s["stage"]: s for s in r["stages"]} for r in wr}
        modes = [r["mode"] for r in wr]
        print()
        partial = [r["mode"] for r in wr if r["status"] != "ok"]
        if partial:
            print(f"({w}: stages of {', '.join(partial)} from the log of a run that did not finish: completed stages only)")
        cols = "".join(f" {m + ' s':>10} {m + ' rows':>14}" for m in modes)
        extra = f" {'off/auto':>9}" if "auto" in by and "off" in by else ""
        line = f"{w + ' stage':<28}{cols}{extra}"
        print(line)
        print("-" * len(line))
        for st in stages:
            cells = ""
            for m in modes:
                s = by[m].get(st)
                cells += f" {fmt_s(s['seconds']) if s else '-':>10} {fmt_int(s['rows']) if s else '-':>14}"
            if extra:
                a, o = by["auto"].get(st), by["off"].get(st)
                ratio = f"{o['seconds'] / a['seconds']:.1f}x" if a and o and a["seconds"] > 0 else "-"
                if a and o and a["rows"] != o["rows"]:
                    ratio += " ROWS DIFFER"
                cells += f" {ratio:>9}"
            print(f"{st:<28}{cells}")
        if extra:
            print("  (issue 7: co-occurrence + top-50 similarity and recommendation scoring >= 10x faster with kernels than off)")

    print()
    print(f"results: {out_json}")
    print(f"logs:    {results_dir}/<workload>-<mode>/run.log")
    return 0 if runs and all(r["status"] == "ok" for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
