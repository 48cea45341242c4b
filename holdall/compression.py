"""What compression holdall knows and how a store asks for it: the codecs, by name, and a
store's choice among them. Light on purpose (no codec is imported here): store settings
validate against it, and the streaming itself is holdall/artifacts/codecs.py."""

from __future__ import annotations

from dataclasses import dataclass

from holdall.errors import ConfigError, HoldallError

MODES = ("none", "zstd", "auto")
LEVELS = (1, 22)  # zstd's own range
DEFAULT_LEVEL = 3  # zstd's default: most of the gain, at hundreds of MB/s a core
# `auto` compresses a file only if its first block shrinks to this share of its size or less:
# data compressed already (parquet, images, random bytes) pays one block's try and no more.
AUTO_BLOCK = 1024 * 1024
AUTO_SHARE = 0.9


@dataclass(frozen=True)
class Codec:
    name: str
    extension: str
    module: str
    install: str


CODECS = {"zstd": Codec("zstd", ".zst", "zstandard", "pip install 'holdall[zstd]'")}


class UnknownCodecError(HoldallError):
    pass


def codec_named(name: str) -> Codec:
    """The codec a manifest names; nothing is imported for a name holdall does not know."""
    try:
        return CODECS[name]
    except KeyError:
        raise UnknownCodecError(
            f"a file was stored with codec '{name}', which this holdall does not know "
            f"(it knows: {', '.join(sorted(CODECS))})",
            fix="upgrade holdall: pip install --upgrade holdall",
        ) from None


def level_problem(level: int) -> str | None:
    low, high = LEVELS
    if low <= level <= high:
        return None
    return f"compression_level {level} is out of zstd's range {low} to {high}"


@dataclass(frozen=True)
class Compression:
    """How new files are stored: `mode` none, zstd or auto, at `level`."""

    mode: str = "none"
    level: int = DEFAULT_LEVEL

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ConfigError(
                f"compression '{self.mode}' is not one of {', '.join(MODES)}",
                fix="save_artifact(..., compression='zstd'), or --compression=auto on the store",
            )
        problem = level_problem(self.level)
        if problem:
            raise ConfigError(problem, fix=f"--compression_level={DEFAULT_LEVEL} (zstd's default)")

    @property
    def codec(self) -> Codec | None:
        return None if self.mode == "none" else CODECS["zstd"]
