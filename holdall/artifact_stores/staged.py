"""Writes that reach the store whole or not at all, written once for every flavor.

A file opened for writing is a real local file (it seeks, tells, truncates) in a staging
place; closing it without error publishes it (a rename on a local disk, an upload to a
bucket), and an exception inside its `with` block, or `discard()`, leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
from collections.abc import Callable
from typing import Any

from holdall.processes import spool_prefix


class StagedFile(io.BufferedRandom):
    def __init__(
        self, staging_dir: str, publish: Callable[[str], None], store_id: str = ""
    ) -> None:
        # Named for this process and its store, so that gc can remove what a killed one left.
        prefix = spool_prefix(store_id)
        descriptor, self.staging = tempfile.mkstemp(prefix=prefix, dir=staging_dir)
        super().__init__(io.FileIO(descriptor, "r+"))
        self._publish = publish

    def close(self) -> None:
        if self.closed:
            return
        try:
            super().close()
            self._publish(self.staging)
        finally:
            # Published by a rename, or uploaded (or failed): the staging copy goes either way.
            _remove(self.staging)

    def discard(self) -> None:
        if self.closed:
            return
        with contextlib.suppress(OSError):  # what could not be flushed is thrown away anyway
            super().close()
        _remove(self.staging)

    def __exit__(self, kind: object, *rest: object) -> None:
        if kind is None:
            self.close()
        else:
            self.discard()  # a failed write publishes nothing


class StagedText(io.TextIOWrapper):
    """Text over a staged (or any discardable) binary file, discarding it on an exception."""

    def __exit__(self, kind: object, *rest: object) -> None:
        if kind is None:
            self.close()
            return
        buffer = self.detach()
        discard = getattr(buffer, "discard", None)
        if discard is not None:
            discard()
        else:
            buffer.close()


def text_writer(binary: Any, **kwargs: Any) -> StagedText:
    return StagedText(
        binary,
        encoding=kwargs.get("encoding") or "utf-8",
        errors=kwargs.get("errors"),
        newline=kwargs.get("newline"),
        write_through=True,
    )


def _remove(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def is_write_mode(mode: str) -> bool:
    """'w' and 'x' modes, text or binary; appends and updates are not staged."""
    return mode.replace("b", "").replace("t", "") in ("w", "x")
