"""Files written whole or not at all (原子写入).

A command that writes its result to ``--out`` checks the place before its long work
(:func:`prepare_output`) and then writes through :func:`write_atomically`: a temporary file beside the
target, renamed over it when complete. A reader sees the old file or the whole new one, never half of it,
and a failed write leaves no stray temporary file. A command that writes a set of files into a folder
(a data package) checks them all with :func:`prepare_folder` and writes them through
:func:`write_folder_atomically`: into a temporary folder beside them, moved in only when every file is
complete.
"""

from __future__ import annotations

import errno
import os
import secrets
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from qilin.common.messages import t

_ERRNO_KEYS: dict[int, str] = {
    errno.EACCES: "output.no_access",
    errno.EPERM: "output.no_access",
    errno.ENOSPC: "output.no_space",
    errno.EROFS: "output.read_only",
    errno.EDQUOT: "output.quota",
    errno.ENAMETOOLONG: "output.name_too_long",
    errno.ENOENT: "output.not_found",
    errno.EISDIR: "output.is_dir",
}


class OutputError(Exception):
    """The output path cannot be written: ``key`` and ``fields`` of a catalog message saying why
    (``output.is_dir``, ``output.not_dir``, ``output.no_space`` …); ``zh`` and ``en`` are its texts."""

    def __init__(self, path: Path, key: str, **fields: Any) -> None:
        self.path = path
        self.key = key
        self.fields = fields
        self.zh = t(key, lang="zh", **fields)
        self.en = t(key, lang="en", **fields)
        super().__init__(f"{path}: {self.en}")

    @classmethod
    def from_os(cls, path: Path, error: OSError) -> OutputError:
        key = _ERRNO_KEYS.get(error.errno or 0)
        if key is None:
            return cls(path, "output.other", detail=error.strerror or str(error))
        return cls(path, key)


def _file_in_the_way(path: Path) -> Path | None:
    """The nearest ancestor of ``path`` that exists and is not a folder, if any."""
    for parent in path.parents:
        if parent.exists():
            return None if parent.is_dir() else parent
    return None


def prepare_output(path: Path) -> Path:
    """Create ``path``'s missing parent folders and check it can be written; raise :class:`OutputError`
    when it is a folder, a file stands where a folder is needed, or the folder cannot be written to."""
    path = Path(path)
    try:  # even looking a path up can fail: a name too long, a folder that cannot be read
        if path.is_dir():
            raise OutputError(path, "output.is_dir")
        if path.exists() and not path.is_file():  # a device or a pipe (/dev/null): a rename would replace it
            raise OutputError(path, "output.not_file")
        blocker = _file_in_the_way(path)
        if blocker is not None:
            raise OutputError(path, "output.not_dir", blocker=str(blocker))
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OutputError.from_os(path, error) from error
    if not os.access(path.parent, os.W_OK):
        raise OutputError(path, "output.no_access")
    return path


def _new_file(path: Path) -> Path:
    """An empty new file beside ``path``, with the permissions a plain ``open`` would give (the umask's),
    unlike :func:`tempfile.mkstemp`'s owner-only 0600."""
    for _ in range(100):
        temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        try:
            os.close(os.open(temporary, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
        except FileExistsError:
            continue
        return temporary
    raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(path))


def write_atomically(path: Path, write: Callable[[Path], object]) -> None:
    """Call ``write(temporary)`` on a new file in ``path``'s folder, then rename it to ``path``."""
    path = prepare_output(path)
    try:
        temporary = _new_file(path)
    except OSError as error:
        raise OutputError.from_os(path, error) from error
    try:
        write(temporary)
        temporary.replace(path)
    except OSError as error:
        raise OutputError.from_os(path, error) from error
    finally:
        temporary.unlink(missing_ok=True)


def output_path(text: str) -> Path:
    """The path a user typed after ``--out``; an empty one is refused (``Path("")`` would silently be the
    current folder)."""
    if text == "":
        raise OutputError(Path(text), "output.empty")
    return Path(text)


def prepare_folder(folder: Path, names: Iterable[str]) -> Path:
    """Create ``folder`` (and its parents) and check that each of the files ``names`` can be written in it;
    raise :class:`OutputError` otherwise (a file where the folder should be, a name too long …)."""
    folder = Path(folder)
    for name in names:
        prepare_output(folder / name)
    return folder


@contextmanager
def write_folder_atomically(folder: Path, names: Iterable[str]) -> Iterator[Path]:
    """A new temporary folder inside ``folder`` to write the files ``names`` into; when the block ends
    without error each file written there replaces its namesake in ``folder`` by a rename. The temporary
    folder is always removed, so a failed or interrupted write leaves the old files as they were.

    >>> import tempfile
    >>> out = Path(tempfile.mkdtemp())
    >>> with write_folder_atomically(out, ["a.csv"]) as staging:
    ...     _ = (staging / "a.csv").write_text("x\\n")
    >>> sorted(p.name for p in out.iterdir())
    ['a.csv']
    """
    folder = prepare_folder(folder, names)
    try:
        staging = Path(tempfile.mkdtemp(prefix=".qilin-", suffix=".tmp", dir=folder))
    except OSError as error:
        raise OutputError.from_os(folder, error) from error
    try:
        yield staging
        for path in sorted(staging.iterdir()):
            path.replace(folder / path.name)
    except OSError as error:
        raise OutputError.from_os(folder, error) from error
    finally:
        shutil.rmtree(staging, ignore_errors=True)
