"""Import issues: one per bad value, naming file, line, column, value and reason in Chinese and English."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from qilin.common.messages import t


@dataclass(frozen=True, slots=True)
class ImportIssue:
    file: str
    line: int | None
    column: str | None
    value: str | None
    key: str
    fields: dict[str, Any] = field(default_factory=dict)

    def reason(self, lang: str = "zh") -> str:
        return t(self.key, lang=lang, **self.fields)

    def message(self, lang: str = "zh") -> str:
        shown = self.value if self.value is None or len(self.value) <= 60 else self.value[:57] + "..."
        if lang == "zh":
            where = self.file
            if self.line is not None:
                where += f" 第 {self.line} 行"
            if self.column:
                where += f" {self.column} 列"
            if shown is not None:
                where += f" 值“{shown}”"
            return f"{where}：{self.reason('zh')}"
        where = self.file
        if self.line is not None:
            where += f", line {self.line}"
        if self.column:
            where += f", column {self.column}"
        if shown is not None:
            where += f", value {shown!r}"
        return f"{where}: {self.reason('en')}"

    def bilingual(self) -> str:
        return f"{self.message('zh')}\n    {self.message('en')}"
