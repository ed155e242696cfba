"""How many ffmpeg processes ``cryvideo predict`` and ``cryvideo detect`` start on the demo
clip, and their wall time, for the code before issue 24's "one decode per need" and after.

Each run is a whole ``cryvideo CMD --json examples/demo.mp4`` process with ``$CRYVIDEO_FFMPEG``
set to a wrapper that appends its arguments to a log and runs the real ffmpeg: the count is a
real measurement, not an estimate. The code *before* is another checkout (``--before``, e.g. a
worktree of the old main) put first on ``PYTHONPATH``; *after* is this repository. Runs of the
two alternate, so a change in the machine's load falls on both. The records printed by both
are compared too (without ``timings``): the change must not alter them.

Usage::

    python benchmarks/bench_ffmpeg_processes.py --before ../wt-before [--repeats 5]

Writes ``benchmarks/results/ffmpeg_processes.json`` and ``ffmpeg_processes.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import REPO, RESULTS, loadavg, machine
from compare_outputs import _without_timings

#: The clip, in each checkout (the same file).
DEMO = Path("examples") / "demo.mp4"
COMMANDS = ("predict", "detect")


def kind(call: str) -> str:
    """What one logged ffmpeg command line does."""
    outputs = call.count("-map ") or call.count(" pipe:")
    if " pipe:" not in call:
        return "probe"
    if "rawvideo" in call:
        return f"video ({outputs} output{'s' if outputs > 1 else ''})"
    for rate in ("16000", "8000"):
        if f"-ar {rate}" in call:
            return f"audio {int(rate) // 1000} kHz"
    return "other"


def wrapper(folder: Path) -> tuple[Path, Path]:
    """An ``ffmpeg`` that logs its arguments, one line per process, then runs the real one."""
    from cryvideo.media.ffmpeg import ffmpeg_exe

    log, script = folder / "calls.log", folder / "ffmpeg"
    script.write_text(f"#!/bin/sh\nprintf '%s\\n' \"$*\" >> '{log}'\nexec '{ffmpeg_exe()}' "
                      "\"$@\"\n")
    script.chmod(0o755)
    return script, log


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run_once(tree: Path, command: str, folder: Path) -> dict:
    """One whole ``cryvideo COMMAND --json DEMO`` process of ``tree``'s code."""
    script, log = wrapper(folder)
    log.unlink(missing_ok=True)
    env = dict(os.environ, PYTHONPATH=str(tree), CRYVIDEO_FFMPEG=str(script),
               TF_CPP_MIN_LOG_LEVEL="3")
    load, c0, t0 = loadavg(), _children_cpu(), time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "cryvideo", command, "--json", str(tree / DEMO)],
                       capture_output=True, text=True, env=env, cwd=tree, timeout=600)
    wall, cpu = time.perf_counter() - t0, _children_cpu() - c0
    if r.returncode != 0:
        sys.exit(f"{tree}: cryvideo {command} failed ({r.returncode}): {r.stderr}")
    calls = log.read_text().splitlines()
    rec = json.loads(r.stdout)
    crying = rec.get("crying")     # predict: a dict holding the detector's answer
    face = (crying if isinstance(crying, dict) else rec).get("face") or {}
    return {"processes": len(calls), "kinds": [kind(c) for c in calls],
            "wall_s": round(wall, 3), "cpu_s": round(cpu, 3), "load_before": load,
            "face_used": bool(face.get("used")), "record": _without_timings(rec)}


def _git(tree: Path) -> str:
    try:
        return subprocess.run(["git", "-C", str(tree), "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def measure(trees: dict[str, Path], repeats: int) -> dict:
    runs: dict = {(t, c): [] for t in trees for c in COMMANDS}
    with tempfile.TemporaryDirectory() as td:
        for i in range(repeats + 1):        # the first round warms caches and is not kept
            for command in COMMANDS:
                for name, tree in trees.items():
                    res = run_once(tree, command, Path(td))
                    if i:
                        runs[name, command].append(res)
                    print(name, command, res["processes"], res["wall_s"], flush=True)
    out = {}
    for (name, command), rs in runs.items():
        walls = [r["wall_s"] for r in rs]
        out.setdefault(command, {})[name] = {
            "processes": sorted({r["processes"] for r in rs}), "kinds": rs[0]["kinds"],
            "wall_s_median": round(statistics.median(walls), 2), "wall_s": walls,
            "cpu_s_median": round(statistics.median(r["cpu_s"] for r in rs), 2),
            "face_used": rs[0]["face_used"], "load_before": [r["load_before"] for r in rs],
            "records_identical_across_runs": all(r["record"] == rs[0]["record"] for r in rs)}
        out[command].setdefault("_records", {})[name] = rs[0]["record"]
    for command in COMMANDS:
        recs = out[command].pop("_records")
        a, b = (json.dumps(recs[n], sort_keys=True).replace(str(trees[n]), "<repo>")
                for n in trees)
        out[command]["outputs_identical_except_timings"] = a == b
    return out


def markdown(res: dict) -> str:
    m = res["machine"]
    lines = ["# ffmpeg processes per `predict` / `detect` of the demo clip", "",
             f"Measured {m['date']} on {m['cpu']} ({m['cores']} cores, {m['ram_gb']} GB); load "
             f"average at start {m['loadavg_1_5_15']}, at end {res['load_after']} (a shared "
             f"machine). `python benchmarks/bench_ffmpeg_processes.py --before "
             f"{res['before']['path']} --repeats {res['repeats']}`: before = git "
             f"{res['before']['git']}, after = git {res['after']['git']}. Each figure is a whole "
             "`cryvideo CMD --json examples/demo.mp4` process (model loading included), counted "
             "by a wrapper around the real ffmpeg (`$CRYVIDEO_FFMPEG`); the median of "
             f"{res['repeats']} runs after one warm-up, before and after alternating.", "",
             "| command | code | ffmpeg processes | what they do | wall s (median) | CPU s of "
             "the children (median) | face verdict used |",
             "|---|---|---|---|---|---|---|"]
    for command in COMMANDS:
        for name in ("before", "after"):
            r = res["results"][command][name]
            kinds = ", ".join(f"{k} ×{r['kinds'].count(k)}" if r["kinds"].count(k) > 1 else k
                              for k in dict.fromkeys(r["kinds"]))
            lines.append(f"| `{command}` | {name} | **{'/'.join(map(str, r['processes']))}** | "
                         f"{kinds} | {r['wall_s_median']} | {r['cpu_s_median']} | "
                         f"{'yes' if r['face_used'] else 'no'} |")
    same = {c: "identical" if res["results"][c]["outputs_identical_except_timings"]
            else "DIFFERENT" for c in COMMANDS}
    lines += ["", "Outputs: " + "; ".join(f"`{c} --json` {same[c]} before and after (except "
                                          "`timings`)" for c in COMMANDS) + ".", "",
        "*probe*: `ffmpeg -i` reading the header; *audio 16 kHz*: the cry detector's input; "
        "*audio 8 kHz*: the crying spans for the reason branches; *video (n outputs)*: one "
        "process decoding the video, one output per crying segment of the face verdict (4 fps) "
        "and one for the face branch (the whole video at 5 fps).", ""]
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--before", type=Path, required=True,
                    help="a checkout of the code before (its folder goes first on PYTHONPATH)")
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args(argv)
    from cryvideo.io import write_json_atomic, write_text_atomic

    trees = {"before": args.before.resolve(), "after": REPO}
    info = machine()
    results = measure(trees, args.repeats)
    res = {"machine": info, "repeats": args.repeats, "clip": "examples/demo.mp4",
           "before": {"path": os.path.relpath(trees["before"], REPO),
                      "git": _git(trees["before"])},
           "after": {"path": ".", "git": _git(REPO)}, "results": results,
           "load_after": loadavg()}
    write_json_atomic(RESULTS / "ffmpeg_processes.json", res)
    write_text_atomic(RESULTS / "ffmpeg_processes.md", markdown(res))
    print(markdown(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
