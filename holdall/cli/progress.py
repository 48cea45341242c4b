"""What a long command shows as it goes: on a terminal, one line redrawn in place (bytes,
files, rate, time left); otherwise plain lines, one per finished piece, for logs. Always on
stderr, so that stdout holds only the result (`-o json`)."""

from __future__ import annotations

import sys
import threading
import time
from typing import TextIO

from holdall.artifacts.migration import Move, Plan, Progress

REDRAW_S = 0.2


def size_text(size: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TiB"  # pragma: no cover


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"


class MigrationProgress(Progress):
    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.terminal = self.stream.isatty()
        self.lock = threading.Lock()
        self.total_bytes = self.total_files = 0
        self.bytes = self.files = 0
        self.start = time.monotonic()
        self.drawn = 0.0

    def started(self, plan: Plan) -> None:
        self.total_bytes, self.total_files = plan.size, plan.files
        self.start = time.monotonic()
        if not self.terminal:
            self._line(
                f"moving {len(plan.moves)} versions: {plan.files} files, {size_text(plan.size)}"
            )

    def file_done(self, move: Move, path: str, size: int, copied: bool) -> None:
        with self.lock:
            self.bytes += size
            self.files += 1
            now = time.monotonic()
            if self.terminal and (now - self.drawn >= REDRAW_S or self.files == self.total_files):
                self.drawn = now
                self.stream.write("\r" + self._bar(now) + "\x1b[K")
                self.stream.flush()

    def version_done(self, move: Move, error: str | None) -> None:
        with self.lock:
            if error is not None:
                self._line(f"failed {move.label}: {error}")
            elif not self.terminal:
                self._line(
                    f"moved {move.label} ({len(move.files)} files, {size_text(move.size)}) "
                    f"to {move.target_uri}"
                )

    def _bar(self, now: float) -> str:
        elapsed = max(now - self.start, 1e-6)
        rate = self.bytes / elapsed
        left = (self.total_bytes - self.bytes) / rate if rate > 0 else 0.0
        share = self.bytes / self.total_bytes if self.total_bytes else 1.0
        filled = int(share * 20)
        return (
            f"[{'#' * filled}{'.' * (20 - filled)}] {size_text(self.bytes)} / "
            f"{size_text(self.total_bytes)}  {self.files}/{self.total_files} files  "
            f"{size_text(rate)}/s  ETA {_clock(left)}"
        )

    def _line(self, text: str) -> None:
        prefix = "\r\x1b[K" if self.terminal else ""
        self.stream.write(f"{prefix}{text}\n")
        self.stream.flush()

    def finish(self) -> None:
        if self.terminal and self.files:
            self.stream.write("\n")
            self.stream.flush()
