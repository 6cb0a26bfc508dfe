"""Progress reporting for long work: a Rich progress bar on a terminal, plain stage lines elsewhere."""

from __future__ import annotations

import sys
from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

STAGE_NAMES = {
    "check": "校验 / checking",
    "write": "写入数据库 / writing to the database",
    "generate": "生成 / generating",
    "export": "导出 / exporting",
    "snapshots": "梯队快照 / tier snapshots",
    "discovery": "智能发现评分 / discovery scores",
}


def stage_title(name: str) -> str:
    head, _, rest = name.partition(":")
    title = STAGE_NAMES.get(head, head)
    return f"{title} {rest}".strip()


class RichProgress:
    """Implements the ``Progress`` protocol of long-running services with one bar per stage."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True)
        self._interactive = self.console.is_terminal
        self._bars = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=self.console,
            disable=not self._interactive,
        )
        self._task: TaskID | None = None

    def __enter__(self) -> RichProgress:
        self._bars.__enter__()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._bars.__exit__(exc_type, exc, tb)

    def stage(self, name: str, total: int | None) -> None:
        title = stage_title(name)
        if self._task is not None:
            self._bars.update(self._task, completed=self._bars.tasks[-1].total or 0)
        self._task = self._bars.add_task(title, total=total)
        if not self._interactive:
            # Scripts and logs see each stage begin, with its size.
            print(f"{title} ({total if total is not None else '?'})", file=sys.stderr, flush=True)

    def advance(self, n: int = 1) -> None:
        if self._task is not None:
            self._bars.advance(self._task, n)
