"""A rich progress bar (files/s, MB/s, ETA) on a terminal; nothing at all otherwise (rich is imported only
when the bar is shown)."""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.progress import Progress


def _bar() -> Progress:
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        Task,
        TextColumn,
        TimeRemainingColumn,
    )
    from rich.text import Text

    class FilesPerSecond(ProgressColumn):
        def render(self, task: Task) -> Text:
            files, mb = task.fields.get("files_per_s"), task.fields.get("mb_per_s")
            return Text(f"{files:,.0f} files/s {mb:,.1f} MB/s" if files else "… files/s")

    return Progress(
        TextColumn("scanning"),
        BarColumn(),
        MofNCompleteColumn(),
        FilesPerSecond(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=False,
    )


class ScanProgress:
    def __init__(self, enabled: bool, files: int) -> None:
        self._progress: Progress | None = None
        self._task: Any = None
        self._bytes = 0
        self._done = 0
        if enabled and files:
            self._progress = _bar()
            self._task = self._progress.add_task("scan", total=files, files_per_s=0.0, mb_per_s=0.0)

    def advance(self, nbytes: int) -> None:
        if self._progress is None:
            return
        self._done += 1
        self._bytes += nbytes
        task = self._progress.tasks[0]
        elapsed = task.elapsed or 0.0
        rate = self._done / elapsed if elapsed > 0 else 0.0
        mb = self._bytes / elapsed / 1e6 if elapsed > 0 else 0.0
        self._progress.update(self._task, advance=1, files_per_s=rate, mb_per_s=mb)

    def __enter__(self) -> ScanProgress:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._progress is not None:
            self._progress.stop()
