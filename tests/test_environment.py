"""Every ``CRYVIDEO_*`` variable the library reads is read in ``cryvideo/environment.py``, which
documents each; and each reader gives what its variable says."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cryvideo import environment

PACKAGE = Path(__file__).resolve().parents[1] / "cryvideo"
#: a read of a variable: os.environ[...] / .get(...) / os.getenv(...) naming CRYVIDEO_...
READ = re.compile(r"""(?:environ(?:\.get)?\s*[\[(]|getenv\s*\()\s*["'](CRYVIDEO_[A-Z_]+)""")


def test_no_module_but_environment_reads_a_cryvideo_variable():
    readers = {}
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE).as_posix()
        if rel == "environment.py" or rel.startswith("testing/"):
            continue
        for name in READ.findall(path.read_text(encoding="utf-8")):
            readers.setdefault(name, []).append(rel)
    assert not readers, f"read outside cryvideo/environment.py: {readers}"


def test_every_variable_is_documented_in_the_module_docstring():
    for name in environment.VARIABLES:
        assert f"``{name}``" in environment.__doc__, name


def test_readers_follow_their_variables(monkeypatch, tmp_path):
    for name in environment.VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert environment.cache_dir() == tmp_path / "xdg" / "cryvideo"
    assert environment.models_dir() is None and environment.weights_dirs() == []
    assert environment.threads() is None and not environment.debug()
    assert environment.dask_timeout(10.0) == 10.0

    monkeypatch.setenv("CRYVIDEO_CACHE_DIR", str(tmp_path / "c"))
    monkeypatch.setenv("CRYVIDEO_WEIGHTS_DIR", f"{tmp_path / 'a'}::{tmp_path / 'b'}")
    monkeypatch.setenv("CRYVIDEO_THREADS", "3")
    monkeypatch.setenv("CRYVIDEO_DASK_TIMEOUT", "2.5")
    assert environment.cache_dir() == tmp_path / "c"
    assert environment.weights_dirs() == [tmp_path / "a", tmp_path / "b"]
    assert environment.threads() == 3 and environment.dask_timeout(10.0) == 2.5


@pytest.mark.parametrize("value", ["0", "-2", "two", ""])
def test_threads_that_are_not_a_positive_whole_number_are_ignored(monkeypatch, value):
    monkeypatch.setenv("CRYVIDEO_THREADS", value)
    assert environment.threads() is None


def test_an_undocumented_variable_cannot_be_read():
    with pytest.raises(AssertionError, match="not documented"):
        environment._get("CRYVIDEO_SOMETHING_NEW")


def test_no_other_module_names_a_variable_of_its_own():
    """A ``X = "CRYVIDEO_..."`` constant outside environment.py would be a second declaration
    (listen's alerts set variables for the command they run: those are not read)."""
    own = re.compile(r"""^\s*[A-Z_]+\s*=\s*["']CRYVIDEO_""", re.M)
    found = [path.relative_to(PACKAGE).as_posix() for path in PACKAGE.rglob("*.py")
             if path.name != "environment.py" and own.search(path.read_text(encoding="utf-8"))]
    assert not found, found
