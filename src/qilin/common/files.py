"""Files written whole or not at all (原子写入).

A command that writes its result to ``--out`` checks the place before its long work
(:func:`prepare_output`) and then writes through :func:`write_atomically`: a temporary file beside the
target, renamed over it when complete. A reader sees the old file or the whole new one, never half of it,
and a failed write leaves no stray temporary file.
"""

from __future__ import annotations

import errno
import os
import secrets
from collections.abc import Callable
from pathlib import Path

_ZH_REASONS: dict[int, str] = {
    errno.EACCES: "没有写入权限",
    errno.EPERM: "没有写入权限",
    errno.ENOSPC: "磁盘空间不足",
    errno.EROFS: "只读文件系统",
    errno.EDQUOT: "超出磁盘配额",
    errno.ENAMETOOLONG: "文件名过长",
    errno.ENOENT: "路径不存在",
    errno.ENOTDIR: "路径中有一段不是文件夹",
}


class OutputError(Exception):
    """The output path cannot be written. ``reason``: ``"is_dir"`` (the path is a folder),
    ``"not_dir"`` (``blocker``, a file, stands where a folder is needed) or ``"os"`` (``zh`` / ``en`` say
    why, from the operating system's error)."""

    def __init__(
        self, path: Path, reason: str, *, blocker: Path | None = None, error: OSError | None = None
    ) -> None:
        self.path = path
        self.reason = reason
        self.blocker = blocker
        self.en = (error.strerror or str(error)) if error is not None else ""
        self.zh = _ZH_REASONS.get(error.errno or 0, self.en) if error is not None else ""
        super().__init__(f"{path}: {reason} {self.en}".strip())


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
    if path.is_dir():
        raise OutputError(path, "is_dir")
    blocker = _file_in_the_way(path)
    if blocker is not None:
        raise OutputError(path, "not_dir", blocker=blocker)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OutputError(path, "os", error=error) from error
    if not os.access(path.parent, os.W_OK):
        raise OutputError(path, "os", error=PermissionError(errno.EACCES, os.strerror(errno.EACCES)))
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
        raise OutputError(path, "os", error=error) from error
    try:
        write(temporary)
        temporary.replace(path)
    except OSError as error:
        raise OutputError(path, "os", error=error) from error
    finally:
        temporary.unlink(missing_ok=True)
