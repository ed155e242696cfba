"""Reliability figures: the long fuzz profile and the 60-minute input.

Runs

1. the long fuzz corpus (:func:`cryvideo.testing.fuzz.build_corpus`, ``profile="long"``) through
   ``Predictor.predict`` one file at a time (deadline per file), through ``cryvideo CMD --json
   <all files>`` in-process for each media command present (``predict``, ``detect``), and a sample
   through ``python -m cryvideo CMD FILE`` subprocesses;
2. a 60-minute synthetic video (the demo clip looped) through ``python -m cryvideo predict
   --fps 1`` (and ``detect``), polling the peak resident memory of the process tree;

and writes ``benchmarks/results/reliability.json`` and ``reliability.md``.

Usage::

    python benchmarks/bench_reliability.py [--minutes 60] [--profile long] [--out DIR]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from cryvideo import __version__  # noqa: E402
from cryvideo.io import write_json_atomic, write_text_atomic  # noqa: E402
from cryvideo.testing.fuzz import (  # noqa: E402
    build_corpus,
    ffmpeg_processes,
    run_api_case,
    run_cli_inprocess,
    summarize,
)
from cryvideo.testing.measure import long_video, run_measured  # noqa: E402

MEDIA_COMMANDS = ("predict", "detect")
FUZZ_FPS = "2"
PER_FILE_TIMEOUT = 60.0


def _subcommands() -> dict:
    from cryvideo.cli import build_parser

    for action in build_parser()._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _argv(cmd: str, sub, paths, fps: str) -> list[str]:
    opts = set(sub._option_string_actions)
    argv = [cmd]
    if "--json" in opts:
        argv.append("--json")
    if "--fps" in opts:
        argv += ["--fps", fps]
    return argv + [str(p) for p in paths]


def machine() -> dict:
    import psutil

    cpu = platform.processor() or ""
    try:
        for ln in Path("/proc/cpuinfo").read_text().splitlines():
            if ln.startswith("model name"):
                cpu = ln.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "ram_gb": round(psutil.virtual_memory().total
                                                                  / 2**30, 1),
            "python": platform.python_version(), "platform": platform.platform(),
            "load_avg_at_start": [round(x, 2) for x in os.getloadavg()]}


def fuzz(workdir: Path, profile: str, subs: dict, sample_per_kind: int) -> dict:
    from cryvideo.pipeline import Predictor

    t0 = time.perf_counter()
    cases = build_corpus(workdir / "fuzz", profile=profile, seed=0)
    made = time.perf_counter() - t0
    marker = str(workdir / "fuzz")
    kinds: dict[str, int] = {}
    for c in cases:
        kinds[c.kind] = kinds.get(c.kind, 0) + 1
    print(f"corpus: {len(cases)} files in {made:.1f} s {kinds}", file=sys.stderr)

    predictor = Predictor(fps=float(FUZZ_FPS))
    outcomes = []
    for i, c in enumerate(cases):
        outcomes.append(run_api_case("predict-api", predictor.predict, c,
                                     timeout=PER_FILE_TIMEOUT, marker=marker))
        if (i + 1) % 100 == 0:
            print(f"  api {i + 1}/{len(cases)}", file=sys.stderr)
    res = {"files": len(cases), "by_kind": kinds, "api": summarize(outcomes)["predict-api"],
           "problems": [o.to_dict() for o in outcomes if o.status in ("crash", "hang")
                        or o.orphans]}
    errors: dict[str, int] = {}
    for o in outcomes:
        if o.status == "error":
            msg = re.sub(r"\d+(\.\d+)?", "N", o.message.split(": ", 1)[-1])[:70]
            errors[msg] = errors.get(msg, 0) + 1
    res["api_error_messages"] = dict(sorted(errors.items(), key=lambda kv: -kv[1]))

    paths = [str(c.path) for c in cases]
    res["cli_batch"] = {}
    res["cli_subprocess"] = {}
    for cmd in MEDIA_COMMANDS:
        if cmd not in subs:
            res["cli_batch"][cmd] = res["cli_subprocess"][cmd] = "command not present"
            continue
        rc, out, err, secs = run_cli_inprocess(_argv(cmd, subs[cmd], paths, FUZZ_FPS))
        lines = err.strip().splitlines()
        res["cli_batch"][cmd] = {
            "files": len(paths), "exit_code": rc, "seconds": round(secs, 1),
            "seconds_per_file": round(secs / len(paths), 3),
            "stderr_lines": len(lines),
            "stderr_lines_not_one_line_errors": sum(not ln.startswith("cryvideo: error: ")
                                                    for ln in lines),
            "tracebacks": err.count("Traceback"), "internal_errors": err.count("internal error"),
            "summary": lines[-1] if lines else "",
            "orphan_ffmpeg": len(ffmpeg_processes(marker)),
        }
        print(f"  cli batch {cmd}: rc={rc} {secs:.1f} s", file=sys.stderr)
        # sample through subprocesses, as a user runs it
        seen: dict[str, int] = {}
        rows = []
        for c in cases:
            if seen.get(c.kind, 0) >= sample_per_kind:
                continue
            seen[c.kind] = seen.get(c.kind, 0) + 1
            t1 = time.monotonic()
            try:
                p = subprocess.run([sys.executable, "-m", "cryvideo",
                                    *_argv(cmd, subs[cmd], [c.path], FUZZ_FPS)],
                                   capture_output=True, text=True, timeout=PER_FILE_TIMEOUT + 60,
                                   stdin=subprocess.DEVNULL)
                rc, err_lines, hang = p.returncode, p.stderr.strip().splitlines(), False
            except subprocess.TimeoutExpired:
                rc, err_lines, hang = None, [], True
            rows.append({"rc": rc, "hang": hang, "seconds": time.monotonic() - t1,
                         "one_line": rc == 0 or (len(err_lines) == 1 and err_lines[0].startswith(
                             "cryvideo: error: ")),
                         "traceback": any("Traceback" in ln for ln in err_lines),
                         "orphans": len(ffmpeg_processes(marker))})
        codes: dict[str, int] = {}
        for r in rows:
            codes[str(r["rc"])] = codes.get(str(r["rc"]), 0) + 1
        res["cli_subprocess"][cmd] = {
            "files": len(rows), "exit_codes": codes,
            "not_one_line": sum(not r["one_line"] for r in rows),
            "tracebacks": sum(r["traceback"] for r in rows),
            "hangs": sum(r["hang"] for r in rows),
            "orphan_ffmpeg": sum(r["orphans"] for r in rows),
            "seconds_mean": round(sum(r["seconds"] for r in rows) / max(1, len(rows)), 2),
            "seconds_max": round(max((r["seconds"] for r in rows), default=0), 2),
        }
        print(f"  cli subprocess {cmd}: {res['cli_subprocess'][cmd]}", file=sys.stderr)
    return res


def long_input(workdir: Path, minutes: float, subs: dict) -> dict:
    t0 = time.perf_counter()
    path = long_video(workdir / f"{minutes:g}min.mp4", minutes=minutes)
    out = {"video": f"examples/demo.mp4 looped to {minutes:g} min, 240x180, 5 fps, H.264 + AAC "
                    "16 kHz", "seconds_to_make": round(time.perf_counter() - t0, 1),
           "bytes": os.path.getsize(path)}
    env = dict(os.environ, CRYVIDEO_PROGRESS="1", TF_CPP_MIN_LOG_LEVEL="3")
    for cmd in MEDIA_COMMANDS:
        if cmd not in subs:
            out[cmd] = "command not present"
            continue
        argv = [sys.executable, "-m", "cryvideo", *_argv(cmd, subs[cmd], [path], "1")]
        m = run_measured(argv, env=env, timeout=3600)
        row = {"argv": " ".join(["cryvideo", *argv[3:-1], "VIDEO"]), "exit_code": m.returncode,
               "seconds": m.seconds, "peak_rss_mb": m.peak_rss_mb,
               "peak_tree_rss_mb": m.peak_tree_rss_mb,
               "progress_bar_seen": "%|" in m.stderr,
               "tracebacks": m.stderr.count("Traceback"), "polls": m.samples}
        if cmd == "predict" and m.returncode == 0:
            res = json.loads(m.stdout.strip().splitlines()[-1])
            face = next((b for b in res["branches"] if b["name"] == "face"), None)
            row["frames"] = face["details"].get("frames") if face else None
            row["timings"] = res["timings"]
        out[cmd] = row
        print(f"  {minutes:g} min {cmd}: {row}", file=sys.stderr)
    return out


def to_markdown(r: dict) -> str:
    m = r["machine"]
    f = r["fuzz"]
    a = f["api"]
    lines = [
        "# Reliability figures",
        "",
        f"Measured {r['date']} with cryvideo {r['version']} by `benchmarks/bench_reliability.py` "
        f"(profile `{r['profile']}`) on {m['cpu']}, {m['cores']} cores, {m['ram_gb']} GB RAM "
        f"(shared machine; load average at start {m['load_avg_at_start']}).",
        "",
        "## Fuzz corpus",
        "",
        f"{f['files']} mutated media files made from 9 small real files (ffmpeg lavfi): "
        + ", ".join(f"{k} {v}" for k, v in sorted(f["by_kind"].items())) + ".",
        "",
        "| path | files | ok | clean errors | tracebacks | hangs | orphan ffmpeg | s/file mean | "
        "p95 | max |",
        "|---|---|---|---|---|---|---|---|---|---|",
        f"| `Predictor.predict` (in-process, {PER_FILE_TIMEOUT:g} s deadline per file) | "
        f"{a['files']} | {a['ok']} | {a['clean_errors']} | {a['tracebacks']} | {a['hangs']} | "
        f"{a['orphan_ffmpeg']} | {a['seconds_mean']} | {a['seconds_p95']} | "
        f"{a['seconds_max']} |",
    ]
    for cmd, b in f["cli_batch"].items():
        if isinstance(b, str):
            lines.append(f"| `cryvideo {cmd}` batch | {b} | | | | | | | | |")
            continue
        lines.append(
            f"| `cryvideo {cmd} --json <all>` (in-process, one run; exit {b['exit_code']}) | "
            f"{b['files']} | | {b['stderr_lines'] - 1 if b['exit_code'] == 7 else 0} | "
            f"{b['tracebacks'] + b['internal_errors']} | 0 | {b['orphan_ffmpeg']} | "
            f"{b['seconds_per_file']} | | |")
    for cmd, s in f["cli_subprocess"].items():
        if isinstance(s, str):
            continue
        lines.append(
            f"| `python -m cryvideo {cmd} FILE` (subprocess sample; exit codes "
            f"{s['exit_codes']}) | {s['files']} | {s['exit_codes'].get('0', 0)} | "
            f"{s['files'] - s['exit_codes'].get('0', 0)} | {s['tracebacks']} | {s['hangs']} | "
            f"{s['orphan_ffmpeg']} | {s['seconds_mean']} | | {s['seconds_max']} |")
    lines += ["", "Clean errors by message (API path):", ""]
    lines += [f"- {n} × {msg}" for msg, n in list(f["api_error_messages"].items())[:20]]
    if f["problems"]:
        lines += ["", "**Problems:**", ""] + [f"- {p['status']} {p['mutation']} {p['path']}"
                                              for p in f["problems"]]
    li = r["long_input"]
    lines += ["", f"## {r['minutes']:g}-minute input", "", li["video"] +
              f" ({li['bytes'] / 2**20:.1f} MiB, made in {li['seconds_to_make']} s).", "",
              "| command | exit | wall s | peak RSS MiB (process) | peak RSS MiB (with ffmpeg) "
              "| progress bar | frames |", "|---|---|---|---|---|---|---|"]
    for cmd in MEDIA_COMMANDS:
        row = li.get(cmd)
        if isinstance(row, dict):
            lines.append(f"| `{row['argv']}` | {row['exit_code']} | {row['seconds']} | "
                         f"{row['peak_rss_mb']} | {row['peak_tree_rss_mb']} | "
                         f"{'yes' if row['progress_bar_seen'] else 'no'} | "
                         f"{row.get('frames', '')} |")
        else:
            lines.append(f"| `{cmd}` | {row} | | | | | |")
    lines += ["", "Peak RSS is polled every 0.1 s with psutil (process, and process + children).",
              ""]
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--profile", default="long", choices=("short", "long"))
    ap.add_argument("--minutes", type=float, default=60.0)
    ap.add_argument("--sample-per-kind", type=int, default=4)
    ap.add_argument("--out", default=str(REPO / "benchmarks" / "results"))
    args = ap.parse_args(argv)
    subs = _subcommands()
    result = {"date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
              "version": __version__, "machine": machine(), "profile": args.profile,
              "minutes": args.minutes, "commands_present": [c for c in MEDIA_COMMANDS
                                                            if c in subs]}
    with tempfile.TemporaryDirectory(prefix="cryvideo-rel-") as tmp:
        result["fuzz"] = fuzz(Path(tmp), args.profile, subs, args.sample_per_kind)
        result["long_input"] = long_input(Path(tmp), args.minutes, subs)
    out = Path(args.out)
    write_json_atomic(out / "reliability.json", result)
    write_text_atomic(out / "reliability.md", to_markdown(result))
    print(f"wrote {out / 'reliability.md'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
