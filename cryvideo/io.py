"""Atomic output: a file is either complete or absent, never half-written.

Also the lock that keeps two runs from writing one output file at the same time, and
:class:`DictForm`, the plain-dict form in which a settings dataclass is written to JSON.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import stat
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar, TypeVar

from .errors import ParameterError

__all__ = ["DictForm", "file_digest", "file_sha256", "atomic_path", "write_text_atomic",
           "write_json_atomic", "output_lock", "lock_path", "new_file_mode", "json_line",
           "check_output_folder", "unwritable_reason"]

_UMASK_LOCK = threading.Lock()
_D = TypeVar("_D", bound="DictForm")


class DictForm:
    """Mixin of a dataclass: :meth:`to_dict` and :meth:`from_dict`, its fields as a plain
    dict (for JSON cards and cache keys) and back.

    :meth:`from_dict` ignores the keys that are not fields (what a newer card adds), unless
    the class names what they would be in ``refuse_unknown`` (e.g. ``"feature parameters"``):
    then they raise :class:`~cryvideo.errors.ParameterError`.
    """

    refuse_unknown: ClassVar[str | None] = None

    def to_dict(self) -> dict:
        """The fields as a plain dict (:func:`dataclasses.asdict`)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls: type[_D], d: dict) -> _D:
        """Inverse of :meth:`to_dict`."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - names
        if unknown and cls.refuse_unknown:
            raise ParameterError(f"unknown {cls.refuse_unknown}: {sorted(unknown)}")
        return cls(**{k: v for k, v in d.items() if k in names})


def file_digest(path: str | os.PathLike, algorithm: str = "sha256") -> str:
    """Hex digest of a file's content (``algorithm``: a :mod:`hashlib` name), read in 1 MiB
    blocks."""
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for b in iter(lambda: f.read(1 << 20), b""):
            h.update(b)
    return h.hexdigest()


def file_sha256(path: str | os.PathLike) -> str:
    """Hex sha256 of a file's content: what model cards, weights and caches key files by."""
    return file_digest(path, "sha256")


def new_file_mode() -> int:
    """Permission bits a newly created file gets under the current umask (``0o666 & ~umask``)."""
    with _UMASK_LOCK:  # reading the umask means setting it: not atomic across threads
        mask = os.umask(0o022)
        os.umask(mask)
    return 0o666 & ~mask


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it onto ``target`` on success.

    If the block raises (or the process is interrupted), the temporary file is removed and
    ``target`` is left as it was. A target that cannot be written (a directory, a read-only or
    missing place) raises :class:`~cryvideo.errors.ParameterError` naming it.

    The file gets the permissions any tool would give it: those of the file it replaces, else
    ``0o666`` less the umask (not the ``0o600`` of a bare temporary file).
    """
    target = Path(target)
    if target.is_dir():
        raise ParameterError("is a directory: give a file name for the output", path=target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        # keep the suffix: some writers (keras .keras, numpy .npz) insist on it
        fd, tmp = tempfile.mkstemp(
            prefix=f".{target.stem}.part-", suffix=target.suffix, dir=target.parent
        )
    except OSError as exc:
        raise ParameterError(f"cannot write the output here ({exc.strerror or exc})",
                             path=target) from None
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        try:
            try:
                mode = stat.S_IMODE(target.stat().st_mode)
            except OSError:
                mode = new_file_mode()
            # after the block: a writer may have replaced the temporary file with its own
            with contextlib.suppress(FileNotFoundError):
                os.chmod(tmp_path, mode)
            os.replace(tmp_path, target)
        except OSError as exc:
            raise ParameterError(f"cannot write the output here ({exc.strerror or exc})",
                                 path=target) from None
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()
        raise


def json_line(obj) -> str:
    """``obj`` as compact one-line JSON (a JSON-lines record, what ``--json`` prints)."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def write_text_atomic(target: str | os.PathLike, text: str) -> None:
    """Write ``text`` (UTF-8) to ``target`` atomically."""
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_json_atomic(target: str | os.PathLike, obj, *, indent: int = 2) -> None:
    """Write ``obj`` as JSON to ``target`` atomically."""
    write_text_atomic(target, json.dumps(obj, indent=indent, sort_keys=False) + "\n")


def lock_path(target: str | os.PathLike) -> Path:
    """The lock file of an output: ``.NAME.lock`` beside it."""
    target = Path(target)
    return target.with_name(f".{target.name}.lock")


@contextlib.contextmanager
def output_lock(target: str | os.PathLike) -> Iterator[Path]:
    """Hold an exclusive lock on the output ``target`` for the duration of the block.

    The lock is a ``flock`` on ``.NAME.lock`` beside the target, removed on exit. The kernel
    drops the lock when a process dies, so a lock file left by a killed run does not block
    later runs. Creating the lock file also proves the folder is writable.

    Raises
    ------
    ParameterError
        Another process holds the lock (another run is writing this output), or the lock
        file cannot be created there (the output could not be written either).
    """
    import fcntl

    target = Path(target)
    lock = lock_path(target)
    try:
        lock.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ParameterError(f"cannot write the output here ({exc.strerror or exc})",
                             path=target) from None
    while True:
        try:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            raise ParameterError(f"cannot write the output here ({exc.strerror or exc})",
                                 path=target) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise ParameterError(
                f"another cryvideo run is writing this output (lock file {lock.name} beside it); "
                "wait for it to finish or choose another output file", path=target) from None
        except OSError as exc:  # a file system without locks
            os.close(fd)
            raise ParameterError(f"cannot lock the output ({exc.strerror or exc})",
                                 path=target) from None
        # the holder before us may have removed the file between our open and our lock:
        # then we hold a lock nobody else sees; start again on the file now at that path
        try:
            same = os.path.samestat(os.fstat(fd), os.stat(lock))
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    try:
        os.write(fd, f"{os.getpid()}\n".encode())
        yield lock
    finally:
        with contextlib.suppress(FileNotFoundError):
            lock.unlink()  # before unlocking: a waiting process must not lock a stale file
        os.close(fd)


def unwritable_reason(folder: Path) -> str | None:
    """Why files cannot be created in ``folder`` (or its nearest existing parent), or None."""
    d = folder
    while not d.exists():
        if d.parent == d:
            break
        d = d.parent
    if not d.is_dir():
        return f"{d} is not a folder"
    try:  # os.access says yes to root even where nothing can be written (/proc, read-only mounts)
        fd, probe = tempfile.mkstemp(prefix=".cryvideo-write-check-", dir=d)
    except OSError as exc:
        return f"cannot create files in {d} ({exc.strerror or exc})"
    os.close(fd)
    os.unlink(probe)
    return None


def check_output_folder(folder: str | os.PathLike, *, option: str) -> Path:
    """Check a folder that will receive new files before any work: an existing folder, or one
    that can be created, where files can be created.

    Raises
    ------
    ParameterError
        (exit 2) naming the folder: it is a file, or nothing can be created there.
    """
    p = Path(folder)
    if p.exists() and not p.is_dir():
        raise ParameterError(f"is not a folder: {option} takes a folder", path=p)
    why = unwritable_reason(p)
    if why:
        raise ParameterError(f"cannot be written: {why}", path=p)
    return p
