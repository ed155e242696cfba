"""Figures of README.md and docs/ tied to their sentence and to the results file they come from.

A *check* says where a figure stands and where its value comes from:

* :class:`Sentence` — words of the document with ``{}`` where each figure stands, e.g.
  ``Sentence("docs/detection.md", "adult teen crying {} (23 rec.)", Value(DET, path, fmt))``;
  the sentence, with the figures written as ``fmt`` writes the values, must be in the
  document (whitespace does not matter);
* :class:`Cell` — a table cell, by the row's first cell and the column's header;
* :class:`Copied` — a table row or paragraph that is a copy of one of a results report, e.g. a
  row of the table that the report writer renders from the committed JSON.

A :class:`Value` is a committed results file (JSON), a path into it and a format; the figure
must equal the value as formatted. :func:`check` runs a check on a document's text (the
committed one, or one changed in memory), :func:`mutation_report` changes every number of a
document in turn and says which changes no check noticed; numbers that are not figures (a
sample rate, a version, an option's value) are set aside by :class:`Skip` rules, each with its
reason.

The document is first cut into blocks (:func:`normalize`): a paragraph or list item on one
line, each table row and each line of a fenced code block on its own line, whitespace
collapsed. A sentence never spans two blocks.

Typical use (the registry of this repository is ``tests/test_docs_figures.py``)::

    CHECKS = [Sentence("README.md", "F1 {} per recording",
                       Value("benchmarks/results/detection.json",
                             ("methods", "gated", "pooled", "f1"), fmt=interval_text))]
    report = mutation_report("README.md", normalize(text), CHECKS, SKIPS, repo)
    assert not report["missed"]
"""

from __future__ import annotations

import dataclasses
import functools
import json
import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

__all__ = [
    "Value",
    "Sentence",
    "Cell",
    "row",
    "Copied",
    "Skip",
    "Verdict",
    "normalize",
    "resolve",
    "check",
    "numbers",
    "mutate",
    "mutation_report",
]

BULLET = re.compile(r"\s*(?:[*-]|\d+\.)\s")  # a Markdown list item starts
NUMBER = re.compile(r"\d+(?:\.\d+)?")


# ------------------------------------------------------------------------------ documents

def normalize(text: str) -> str:
    """Blocks of Markdown text, one a line: paragraphs and list items joined into one line
    (block quotes without their ``>``), table rows, headings and lines of fenced code blocks
    kept, whitespace runs collapsed."""
    out: list[str] = []
    para: list[str] = []

    def flush():
        if para:
            out.append(" ".join(para))
            para.clear()

    in_code = False
    for raw in text.splitlines():
        line = " ".join(raw.split())
        if not in_code and line.startswith(">"):  # a block quote: its text
            raw = raw.lstrip()[1:]
            line = line[1:].strip()
        if line.startswith("```"):
            flush()
            in_code = not in_code
            out.append(line)
            continue
        if in_code or line.startswith("|") or line.startswith("#"):
            flush()
            if line:
                out.append(line)
            continue
        if not line:
            flush()
            continue
        if BULLET.match(raw) and para:
            flush()
        para.append(line)
    flush()
    return "\n".join(out)


def resolve(doc, path):
    """Follow ``path`` into a JSON document: a ``str`` key of a dict, an ``int`` index of a
    list, a ``dict`` selecting the first element of a list whose fields have those values; or
    ``path`` is a callable ``path(doc) -> value``."""
    if callable(path):
        return path(doc)
    node = doc
    for step in path:
        if isinstance(step, dict):
            node = next(x for x in node if all(x.get(k) == v for k, v in step.items()))
        else:
            node = node[step]
    return node


@functools.cache
def _load(repo: Path, rel: str):
    text = (repo / rel).read_text(encoding="utf-8")
    return json.loads(text) if rel.endswith(".json") else text


# ------------------------------------------------------------------------------ checks

@dataclasses.dataclass(frozen=True)
class Value:
    """A value of a committed results file, as the text writes it.

    Attributes
    ----------
    results : str
        The file, relative to the repository (JSON; a model card is one too).
    path : tuple or callable
        Where the value is (:func:`resolve`).
    fmt : callable
        ``fmt(value) -> str``: how the text writes it.
    """

    results: str
    path: tuple | Callable
    fmt: Callable = str

    def text(self, repo: Path) -> str:
        return str(self.fmt(resolve(_load(repo, self.results), self.path)))

    def where(self) -> str:
        if callable(self.path):
            return f"{self.results} ({getattr(self.path, '__doc__', None) or 'computed'})"
        steps = "/".join(",".join(f"{k}={v}" for k, v in s.items()) if isinstance(s, dict)
                         else str(s) for s in self.path)
        return f"{self.results} {steps}"


@dataclasses.dataclass(frozen=True)
class Verdict:
    """What a check found: ``ok``, the spans of the normalized text it read (a change inside
    them can make it fail), and what is wrong when it is not ok."""

    ok: bool
    spans: tuple[tuple[int, int], ...] = ()
    message: str = ""


@dataclasses.dataclass(frozen=True)
class Sentence:
    """Figures in their sentence: ``pattern`` is the document's words with ``{}`` for each
    figure, ``values`` one :class:`Value` per ``{}``."""

    doc: str
    pattern: str
    values: tuple[Value, ...]

    def __init__(self, doc: str, pattern: str, *values: Value) -> None:
        if pattern.count("{}") != len(values):
            raise ValueError(f"{pattern!r}: {pattern.count('{}')} places for {len(values)} "
                             "values")
        object.__setattr__(self, "doc", doc)
        object.__setattr__(self, "pattern", " ".join(pattern.split()))
        object.__setattr__(self, "values", tuple(values))

    @property
    def id(self) -> str:
        return f"{self.doc}: {self.pattern[:70]}"

    def check(self, text: str, repo: Path) -> Verdict:
        parts = self.pattern.split("{}")
        want = parts[0] + "".join(v.text(repo) + p for v, p in zip(self.values, parts[1:],
                                                                      strict=True))
        spans = tuple((m.start(), m.end()) for m in re.finditer(re.escape(want), text))
        if spans:
            return Verdict(True, spans)
        lead = max(parts, key=len)
        seen = [text[max(0, i - 40): i + len(lead) + 40] for i in _finds(text, lead)]
        first_three = seen[:3]
        return Verdict(False, (), (
            f"{self.doc}: the sentence {self.pattern!r} should read {want!r} (from "
            + "; ".join(v.where() for v in self.values) + "); "
            + (f"the text has {' | '.join(repr(s) for s in first_three)}" if seen
               else f"{lead!r} is not in the text")))


def _finds(text: str, sub: str) -> list[int]:
    return [m.start() for m in re.finditer(re.escape(sub), text)] if sub else []


def _cells(line: str) -> list[str]:
    return [c.strip().strip("*").strip() for c in line.strip().strip("|").split("|")]


SEPARATOR = re.compile(r"^\|[-:| ]+\|$")


def _tables(text: str) -> list[tuple[int, list[tuple[int, str]]]]:
    """Tables of normalized text: (offset of the header, [(offset, line) of each row]); a table
    starts at a row followed by a separator row (``|---|``)."""
    lines = text.split("\n")
    out, cur, pos = [], None, 0
    for i, line in enumerate(lines):
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if line.startswith("|") and SEPARATOR.match(nxt) and not SEPARATOR.match(line):
            cur = (pos, [])
            out.append(cur)
        if line.startswith("|") and cur is not None:
            cur[1].append((pos, line))
        elif not line.startswith("|"):
            cur = None
        pos += len(line) + 1
    return out


@dataclasses.dataclass(frozen=True)
class Cell:
    """A figure in a table cell: the row whose first cell is ``row``, the column whose header
    is ``column`` (``**`` bold ignored), in the table whose header row contains ``table``."""

    doc: str
    row: str
    column: str
    value: Value
    table: str = ""

    @property
    def id(self) -> str:
        return f"{self.doc}: | {self.row} | … {self.column}"

    def check(self, text: str, repo: Path) -> Verdict:
        want = self.value.text(repo)
        found = []
        for _, rows in _tables(text):
            header = rows[0][1]
            if self.table not in header:
                continue
            names = _cells(header)
            for pos, line in rows[2:]:
                cells = _cells(line)
                if cells[0] == self.row:
                    found.append((pos, line, cells, names))
        if len(found) != 1:
            return Verdict(False, (), f"{self.doc}: {len(found)} rows | {self.row} | in tables "
                                      f"with {self.table!r} in the header, expected one")
        pos, line, cells, names = found[0]
        if self.column not in names:
            return Verdict(False, (), f"{self.doc}: no column {self.column!r} in {names}")
        got = cells[names.index(self.column)] if names.index(self.column) < len(cells) else ""
        if got != want:
            return Verdict(False, (), f"{self.doc}: row | {self.row} |, column "
                                      f"{self.column!r} has {got!r}, should have {want!r} (from "
                                      f"{self.value.where()})")
        return Verdict(True, ((pos, pos + len(line)),))


def row(doc: str, key: str, columns: dict[str, Value], *, table: str = "") -> list[Cell]:
    """The cells of one row (:class:`Cell`), by column header."""
    return [Cell(doc, key, c, v, table) for c, v in columns.items()]


@dataclasses.dataclass(frozen=True)
class Copied:
    """A block of a results report copied into a document: the document's block (a table row,
    a paragraph, a list item) that begins with ``prefix`` — or, with ``table=True``, every
    row of the table whose header begins with ``prefix`` — must be a block of ``source``:
    ``source(repo) -> str``, e.g. the report writer's rendering of the committed JSON."""

    doc: str
    prefix: str
    source: Callable[[Path], str]
    what: str
    table: bool = False

    @property
    def id(self) -> str:
        return f"{self.doc}: copy of {self.what}: {self.prefix[:50]}"

    def check(self, text: str, repo: Path) -> Verdict:
        ref = _blocks_of(self.source(repo))
        prefix = " ".join(self.prefix.split())
        blocks, pos = [], 0
        lines = text.split("\n")
        offsets = []
        for line in lines:
            offsets.append(pos)
            pos += len(line) + 1
        if self.table:
            for _, rows in _tables(text):
                if rows[0][1].startswith(prefix):
                    blocks += rows
        else:
            blocks = [(o, ln) for o, ln in zip(offsets, lines, strict=True)
                      if ln.startswith(prefix)]
        if len(blocks) == 0 or (not self.table and len(blocks) > 1):
            return Verdict(False, (), f"{self.doc}: {len(blocks)} blocks begin with "
                                      f"{prefix[:60]!r}, expected one")
        bad = [ln for _, ln in blocks if ln not in ref]
        if bad:
            return Verdict(False, (), f"{self.doc}: {bad[0][:120]!r} is not in {self.what}")
        return Verdict(True, tuple((o, o + len(ln)) for o, ln in blocks))


@functools.lru_cache(maxsize=64)
def _blocks_of(source_text: str) -> frozenset[str]:
    return frozenset(normalize(source_text).split("\n"))


def check(item, text: str, repo: Path) -> Verdict:
    """Run a check on ``normalize``-d text."""
    try:
        return item.check(text, repo)
    except (KeyError, IndexError, StopIteration, TypeError) as exc:
        return Verdict(False, (), f"{item.id}: the value cannot be read ({exc!r})")


# ------------------------------------------------------------------------------ mutations

@dataclasses.dataclass(frozen=True)
class Skip:
    """Numbers that are not result figures: every number inside a match of ``pattern`` (a
    regular expression on the normalized text, multi-line) of ``doc`` (``"*"``: every
    document), for ``reason``."""

    doc: str
    pattern: str
    reason: str

    def spans(self, text: str) -> list[tuple[int, int]]:
        return [(m.start(), m.end()) for m in re.finditer(self.pattern, text, re.M | re.S)]


def numbers(text: str) -> list[tuple[int, int]]:
    """Spans of the numbers of a text (``12``, ``0.96``: a dotted pair is one number)."""
    return [(m.start(), m.end()) for m in NUMBER.finditer(text)]


def mutate(text: str, span: tuple[int, int]) -> str:
    """``text`` with the number at ``span`` changed in its last digit (9 → 0, else + 1)."""
    a, b = span
    last = text[b - 1]
    return text[:b - 1] + str((int(last) + 1) % 10) + text[b:]


def _inside(span, spans) -> bool:
    return any(a <= span[0] and span[1] <= b for a, b in spans)


def _overlaps(span, spans) -> bool:
    return any(span[0] < b and a < span[1] for a, b in spans)


def mutation_report(doc: str, text: str, checks: Sequence, skips: Iterable[Skip],
                    repo: Path) -> dict:
    """Change every number of a document in turn and see which change a check notices.

    Parameters
    ----------
    doc : str
        The document (relative path), to pick its checks and skips.
    text : str
        Its :func:`normalize`-d text.
    checks : sequence
        Every check (those of other documents are ignored).
    skips : iterable of Skip
    repo : Path

    Returns
    -------
    dict
        ``caught`` (spans whose change failed a check), ``skipped`` (span → reason),
        ``missed`` (spans whose change no check noticed, with a line of context each),
        ``failing`` (checks that fail on the unchanged text).
    """
    mine = [c for c in checks if c.doc == doc]
    base = {id(c): check(c, text, repo) for c in mine}
    failing = [c.id for c in mine if not base[id(c)].ok]
    skip_spans = [(s, s.spans(text)) for s in skips if s.doc in ("*", doc)]
    caught, skipped, missed = [], {}, []
    for span in numbers(text):
        # only a check whose read text the change touches can turn to failure
        near = [c for c in mine if base[id(c)].ok and _overlaps(span, base[id(c)].spans)]
        changed = mutate(text, span)
        if any(not check(c, changed, repo).ok for c in near):
            caught.append(span)
            continue
        why = next((s.reason for s, spans in skip_spans if _inside(span, spans)), None)
        if why is not None:
            skipped[span] = why
            continue
        line_start = text.rfind("\n", 0, span[0]) + 1
        line_end = text.find("\n", span[1])
        line = text[line_start: len(text) if line_end < 0 else line_end]
        i = span[0] - line_start
        missed.append((span, text[span[0]:span[1]], line[max(0, i - 60): i + 40]))
    return {"caught": caught, "skipped": skipped, "missed": missed, "failing": failing}
