"""Reliability figures: the long fuzz profile and the 60-minute input.

Runs

1. the long fuzz corpus (:func:`cryvideo.testing.fuzz.build_corpus`, ``profile="long"``) through
   ``Predictor.predict`` one file at a time (deadline per file), through ``cryvideo CMD --json
   <all files>`` in-process for each media command present (``predict``, ``detect``), and a sample
   through ``python -m cryvideo CMD FILE`` subprocesses;
2. a 60-minute synthetic video (the demo clip looped) through ``python -m cryvideo predict
   --fps 1`` (and ``detect``), polling the peak resident memory of the process tree;
3. what a user gives is never damaged or lost (issue 11), each through ``python -m cryvideo``:
   overwrite attempts, headers claiming 200 hours and 31 years, same-stem reports, two
   concurrent runs on one ``--out``, Ctrl-C after N finished files, a report page failing late;

and writes ``benchmarks/results/reliability.json`` and ``reliability.md``.

Usage::

    python benchmarks/bench_reliability.py [--minutes 60] [--profile long] [--out DIR]
        [--only user-files]   # re-run section 3 alone, keeping the other figures
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
            msg = re.sub(r"\d+(\.\d+)?", "N", o.message.split(": ", 1)[-1])  # whole
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


#: Overwrite attempts: name → (argv in the user's folder, the file that must stay untouched).
OVERWRITES = {
    "`predict --out baby1.mp4 baby2.wav` (meant as two inputs)": (
        ["predict", "--out", "baby1.mp4", "baby2.wav"], "baby1.mp4"),
    "`predict --out baby2.wav baby2.wav` (the input itself)": (
        ["predict", "--out", "baby2.wav", "baby2.wav"], "baby2.wav"),
    "`predict --out link.wav baby2.wav` (a hard link to the input)": (
        ["predict", "--out", "link.wav", "baby2.wav"], "link.wav"),
    "`predict --out photo.bin baby2.wav` (binary data)": (
        ["predict", "--out", "photo.bin", "baby2.wav"], "photo.bin"),
    "`predict --report baby2.wav baby2.wav` (the input itself)": (
        ["predict", "--report", "baby2.wav", "baby2.wav"], "baby2.wav"),
    "`predict --report notes.txt baby2.wav` (text, not HTML)": (
        ["predict", "--report", "notes.txt", "baby2.wav"], "notes.txt"),
    "`predict --report pages baby1.mp4 baby2.wav` (pages/baby2.html is binary)": (
        ["predict", "--report", "pages", "baby1.mp4", "baby2.wav"], "pages/baby2.html"),
    "`detect --out baby1.mp4 baby2.wav` (meant as two inputs)": (
        ["detect", "--out", "baby1.mp4", "baby2.wav"], "baby1.mp4"),
}


def user_files(workdir: Path) -> dict:
    """Section 3: the issue-11 cases, each through ``python -m cryvideo`` as a user runs it."""
    import shutil

    from cryvideo.media.audio import MAX_PREALLOC_SECONDS
    from cryvideo.testing.fuzz import _ffmpeg, make_seed_files
    from cryvideo.testing.user_files import (
        PausedRun,
        file_digests,
        mkv_claiming,
        run_cli_fresh,
    )

    seeds = make_seed_files(workdir / "seeds")
    res: dict = {}

    def stderr_line(err: str) -> str:
        lines = err.strip().replace(f"{workdir}/", "").splitlines()  # no temporary paths
        return lines[-1] if lines else ""

    # overwrite attempts
    home = workdir / "user"
    home.mkdir()
    shutil.copyfile(seeds["av.mp4"], home / "baby1.mp4")
    shutil.copyfile(seeds["audio.wav"], home / "baby2.wav")
    os.link(home / "baby2.wav", home / "link.wav")
    (home / "notes.txt").write_text("feeding times: 7:00, 10:30\n")
    (home / "photo.bin").write_bytes(bytes(range(256)) * 64)
    (home / "pages").mkdir()
    (home / "pages" / "baby2.html").write_bytes(bytes(range(256)))
    rows = []
    for name, (argv, victim) in OVERWRITES.items():
        before = file_digests(home)
        rc, _, err, loaded = run_cli_fresh(argv, cwd=home)
        rows.append({"case": name, "exit_code": rc, "stderr_lines": len(err.strip().splitlines()),
                     "message": stderr_line(err), "untouched": file_digests(home) == before,
                     "model_loaded": loaded, "victim": victim})
    res["overwrite"] = rows
    print(f"  overwrite: {[r['exit_code'] for r in rows]}", file=sys.stderr)

    # headers that claim 200 hours and 31 years
    sound = workdir / "sound.mkv"
    _ffmpeg(["-i", str(seeds["audio.wav"]), "-c:a", "flac", str(sound)])
    claims = {"audio, true header (control)": sound,
              "audio, claims 200 h": mkv_claiming(sound, workdir / "claims_200h.mkv", 720000),
              "audio, claims 31 years": mkv_claiming(sound, workdir / "claims_31y.mkv",
                                                     31 * 365.25 * 86400),
              "video, claims 200 h": mkv_claiming(seeds["av.mkv"], workdir / "av_200h.mkv",
                                                  720000)}
    rows = []
    for name, path in claims.items():
        for cmd in MEDIA_COMMANDS:
            argv = [sys.executable, "-m", "cryvideo", cmd, "--json", str(path)]
            m = run_measured(argv, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"), timeout=600)
            row = {"case": name, "command": cmd, "exit_code": m.returncode,
                   "seconds": m.seconds, "peak_rss_mb": m.peak_rss_mb,
                   "stderr": m.stderr.strip()}
            if m.returncode == 0:
                out = json.loads(m.stdout)
                row["note"] = next((n for n in out.get("notes", []) if "could be decoded" in n),
                                   None)
            rows.append(row)
    res["claims"] = {"rows": rows, "max_prealloc_seconds": MAX_PREALLOC_SECONDS}
    print(f"  claims: {[(r['exit_code'], r['peak_rss_mb']) for r in rows]}", file=sys.stderr)

    # reports of inputs with the same stem
    d = workdir / "stems"
    (d / "day1").mkdir(parents=True)
    (d / "day2").mkdir()
    inputs = [d / "day1" / "clip.mp3", d / "day2" / "clip.mp3", d / "day2" / "clip.ogg"]
    shutil.copyfile(seeds["audio.mp3"], inputs[0])
    shutil.copyfile(seeds["audio.mp3"], inputs[1])
    shutil.copyfile(seeds["audio.ogg"], inputs[2])
    rc, _, err, _ = run_cli_fresh(["predict", "--no-face", "--report", d / "reports",
                                   d / "day1", d / "day2"])
    pages = sorted((d / "reports").glob("*.html")) if (d / "reports").is_dir() else []
    res["same_stem"] = {
        "inputs": [p.relative_to(d).as_posix() for p in inputs], "exit_code": rc,
        "pages": [p.name for p in pages],
        "each_input_one_page": all(sum(f"File: {i}<" in p.read_text() for p in pages) == 1
                                   for i in inputs)}
    print(f"  same stem: {res['same_stem']}", file=sys.stderr)

    # runs that wait at a chosen file (deterministic interruption and concurrency)
    vids = []
    for i in range(3):
        vids.append(workdir / f"v{i}.mp4")
        shutil.copyfile(seeds["av.mp4"], vids[-1])

    def records(path: Path) -> list[str]:
        return [json.loads(ln)["path"] for ln in path.read_text().splitlines()] \
            if path.exists() else []

    def leftovers(folder: Path) -> list[str]:
        return sorted(p.name for p in folder.iterdir()
                      if p.name.startswith(".") and not p.name.startswith(".paused"))

    c = workdir / "concurrent"
    c.mkdir()
    out = c / "results.jsonl"
    first = PausedRun(["predict", "--json", "--fps", "2", "--out", out, *vids[:2]], pause_at=2,
                      workdir=c)
    rc2, _, err2, loaded2 = run_cli_fresh(["predict", "--json", "--out", out, vids[2]])
    first.resume()
    rc1, _, err1 = first.wait()
    res["concurrent"] = {"second_exit_code": rc2, "second_message": stderr_line(err2),
                         "second_model_loaded": loaded2, "first_exit_code": rc1,
                         "first_records_kept": len(records(out)), "first_files": 2,
                         "left_behind": leftovers(c)}
    print(f"  concurrent: {res['concurrent']}", file=sys.stderr)

    k = workdir / "ctrl_c"
    k.mkdir()
    out = k / "results.jsonl"
    run = PausedRun(["predict", "--json", "--fps", "2", "--out", out, *vids], pause_at=3,
                    workdir=k)
    run.interrupt()
    rc, stdout, err = run.wait()
    res["ctrl_c"] = {"files": len(vids), "finished_before_ctrl_c": 2, "exit_code": rc,
                     "message": stderr_line(err), "records_printed": len(stdout.splitlines()),
                     "records_in_out": len(records(out)), "left_behind": leftovers(k),
                     "orphan_ffmpeg": len(ffmpeg_processes(str(workdir)))}
    print(f"  ctrl-c: {res['ctrl_c']}", file=sys.stderr)

    r = workdir / "late_report"
    r.mkdir()
    out, report = r / "results.jsonl", r / "reports"
    run = PausedRun(["predict", "--json", "--fps", "2", "--report", report, "--out", out,
                     *vids[:2]], pause_at=2, workdir=r)
    shutil.rmtree(report)
    report.write_text("not a folder any more\n")  # the folder vanished mid-run
    run.resume()
    rc, stdout, err = run.wait()
    res["late_report"] = {"exit_code": rc, "results_printed": sum(
        "label" in json.loads(ln) for ln in stdout.splitlines()), "records_in_out": len(
        records(out)), "stderr": err.strip().replace(f"{workdir}/", "").splitlines()}
    print(f"  late report: {res['late_report']}", file=sys.stderr)
    return res


def user_files_markdown(u: dict, stamp: dict | None = None) -> list[str]:
    when = ""
    if stamp:  # re-run alone (--only user-files)
        m = stamp["machine"]
        when = (f" Measured {stamp['date']} with cryvideo {stamp['version']} on {m['cpu']}, "
                f"{m['cores']} cores (load average at start {m['load_avg_at_start']}).")
    lines = ["", "## What the user gives is never damaged or lost", "",
             "Each case through `python -m cryvideo` (a fresh process), as a user runs it."
             + when, "",
             "**Overwrite attempts** (in a folder with `baby1.mp4`, `baby2.wav`, a hard link to "
             "it, `notes.txt`, `photo.bin`, `pages/baby2.html` holding binary data):", "",
             "| command | exit | stderr lines | files untouched | a model loaded | message |",
             "|---|---|---|---|---|---|"]
    for row in u["overwrite"]:
        lines.append(f"| {row['case']} | {row['exit_code']} | {row['stderr_lines']} | "
                     f"{'yes' if row['untouched'] else '**no**'} | "
                     f"{'**yes**' if row['model_loaded'] else 'no'} | `{row['message']}` |")
    cl = u["claims"]
    lines += ["", "**Headers that claim 200 hours or 31 years** (1.5 s of real content; MKV "
              "with its Duration element rewritten, beside the same file with its true header; "
              "TensorFlow alone is ~0.8 GB; audio buffers are preallocated from a "
              f"claim up to {cl['max_prealloc_seconds'] / 3600:g} h at most, then grow with "
              "what is decoded):", "",
              "| file | command | exit | wall s | peak RSS MiB | note in the output |",
              "|---|---|---|---|---|---|"]
    for row in cl["rows"]:
        lines.append(f"| {row['case']} | `{row['command']} --json` | {row['exit_code']} | "
                     f"{row['seconds']} | {row['peak_rss_mb']} | "
                     f"{row.get('note') or row['stderr'] or '(none)'} |")
    s = u["same_stem"]
    lines += ["", f"**Same-stem reports**: `predict --report reports/ day1 day2` over "
              f"{', '.join(f'`{i}`' for i in s['inputs'])}: exit {s['exit_code']}, pages "
              f"{', '.join(f'`{p}`' for p in s['pages'])}; every input has exactly one page "
              f"naming it: {'yes' if s['each_input_one_page'] else '**no**'}."]
    c = u["concurrent"]
    lines += ["", f"**Two runs on one `--out`**: while the first (2 files) holds it, the second "
              f"exits {c['second_exit_code']} (model loaded: "
              f"{'yes' if c['second_model_loaded'] else 'no'}) with `{c['second_message']}`; "
              f"the first then exits {c['first_exit_code']} with {c['first_records_kept']} of "
              f"{c['first_files']} records in `--out`; left behind: "
              f"{c['left_behind'] or 'nothing'}."]
    k = u["ctrl_c"]
    lines += ["", f"**Ctrl-C after {k['finished_before_ctrl_c']} of {k['files']} files** "
              f"(`predict --json --out`): exit {k['exit_code']}, `{k['message']}`; "
              f"{k['records_printed']} records printed, {k['records_in_out']} in `--out`; "
              f"left behind: {k['left_behind'] or 'nothing'}; orphan ffmpeg: "
              f"{k['orphan_ffmpeg']}."]
    r = u["late_report"]
    lines += ["", f"**A report page failing late** (the report folder replaced by a file while "
              f"file 2 of 2 runs): exit {r['exit_code']}, {r['results_printed']} results "
              f"printed, {r['records_in_out']} records in `--out`; stderr: "
              + "; ".join(f"`{ln}`" for ln in r["stderr"]) + "."]
    return lines


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
    lines += ["", "Peak RSS is polled every 0.1 s with psutil (process, and process + children)."]
    if "user_files" in r:
        lines += user_files_markdown(r["user_files"], r.get("user_files_measured"))
    return "\n".join(lines + [""])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--profile", default="long", choices=("short", "long"))
    ap.add_argument("--minutes", type=float, default=60.0)
    ap.add_argument("--sample-per-kind", type=int, default=4)
    ap.add_argument("--out", default=str(REPO / "benchmarks" / "results"))
    ap.add_argument("--only", choices=("user-files",), default=None,
                    help="re-run one section; the others are kept from the existing results")
    args = ap.parse_args(argv)
    subs = _subcommands()
    out = Path(args.out)
    stamp = {"date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
             "version": __version__, "machine": machine()}
    if args.only:
        result = json.loads((out / "reliability.json").read_text())
        result["user_files_measured"] = stamp
    else:
        result = dict(stamp, profile=args.profile, minutes=args.minutes,
                      commands_present=[c for c in MEDIA_COMMANDS if c in subs])
    with tempfile.TemporaryDirectory(prefix="cryvideo-rel-") as tmp:
        if not args.only:
            result["fuzz"] = fuzz(Path(tmp), args.profile, subs, args.sample_per_kind)
            result["long_input"] = long_input(Path(tmp), args.minutes, subs)
        result["user_files"] = user_files(Path(tmp))
    write_json_atomic(out / "reliability.json", result)
    write_text_atomic(out / "reliability.md", to_markdown(result))
    print(f"wrote {out / 'reliability.md'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
