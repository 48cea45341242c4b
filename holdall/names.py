"""The one rule for names users give: stores, stacks, artifacts, pipelines, steps."""

from __future__ import annotations

import re

from holdall.errors import ConfigError

# Matched whole (fullmatch): `$` alone would let a trailing newline through.
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")


def check_name(kind: str, name: str) -> str:
    # Names become path segments in the store: no '/', no '..', nothing empty.
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name) or ".." in name:
        text = repr(name)  # a long one shortened: the error stays one line
        shown = text if len(text) <= 80 else f"{text[:60]}... ({len(text)} characters)"
        raise ConfigError(
            f"invalid {kind} name {shown}: use letters, digits, '_', '.' and '-' "
            "(starting with a letter or digit, at most 128 characters, no '..')"
        )
    return name
