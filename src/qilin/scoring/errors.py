"""Errors of the scoring feature. Every message exists in Chinese and English.

Class tree::

    ScoringError                  anything the scoring feature refuses
    ├── IndexNotFoundError        no shipped index by that name and no such file
    ├── IndexUnreadableError      a path that cannot be read: a folder, too long a name, no access …
    └── IndexFileError            an index file is refused; names the file and the line
        └── InconsistentMatrixError   a pairwise matrix has consistency ratio CR ≥ 0.10
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

from qilin.scoring.messages import t


class Bilingual(NamedTuple):
    """A message field that reads differently in each language (e.g. a group's label)."""

    zh: str
    en: str


def _resolve(fields: dict[str, Any], lang: str) -> dict[str, Any]:
    return {k: (getattr(v, lang) if isinstance(v, Bilingual) else v) for k, v in fields.items()}


class ScoringError(Exception):
    """Base class; ``message(lang)`` gives the text in ``zh`` or ``en``, ``str()`` gives both."""

    def message(self, lang: str = "zh") -> str:
        return str(self.args[0]) if self.args else type(self).__name__

    def __str__(self) -> str:
        return f"{self.message('zh')} / {self.message('en')}"


class IndexNotFoundError(ScoringError):
    """No shipped index is called ``name``, and ``name`` is not a readable file."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name

    def message(self, lang: str = "zh") -> str:
        return t("index.not_found", lang=lang, name=self.name)


class IndexUnreadableError(ScoringError):
    """``path`` cannot be read as an index file; ``zh`` and ``en`` say why (a folder, no access …)."""

    def __init__(self, path: str, *, zh: str, en: str) -> None:
        super().__init__(path)
        self.path = path
        self.reason = Bilingual(zh, en)

    def message(self, lang: str = "zh") -> str:
        # A path too long for the system is too long to read in full: its start and end say which it was.
        shown = self.path if len(self.path) <= 120 else f"{self.path[:60]}…{self.path[-40:]}"
        return t("index.unreadable", lang=lang, path=shown, reason=getattr(self.reason, lang))


class IndexFileError(ScoringError):
    """An index file (指标体系文件) is refused: ``path`` and ``line`` (1-based) say where, the key why."""

    def __init__(self, path: Path | str, line: int, message_key: str, /, **fields: Any) -> None:
        super().__init__(path, line, message_key)
        self.path = str(path)
        self.line = line
        self.message_key = message_key
        self.fields = fields

    def message(self, lang: str = "zh") -> str:
        detail = t(self.message_key, lang=lang, **_resolve(self.fields, lang))
        return t("index.location", lang=lang, path=self.path, line=self.line, detail=detail)


class InconsistentMatrixError(IndexFileError):
    """A pairwise comparison matrix (判断矩阵) fails Saaty's test: ``consistency_ratio`` ≥ 0.10."""

    def __init__(
        self,
        path: Path | str,
        line: int,
        *,
        name: Bilingual,
        consistency_ratio: float,
        lambda_max: float,
        consistency_index: float,
        random_index: float,
    ) -> None:
        super().__init__(
            path,
            line,
            "index.inconsistent",
            name=name,
            cr=consistency_ratio,
            lambda_max=lambda_max,
            ci=consistency_index,
            ri=random_index,
        )
        self.consistency_ratio = consistency_ratio
