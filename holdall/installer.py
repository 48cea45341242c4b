"""Installing an integration: its one distribution and what it declares, into this Python.

Where the distribution comes from, in order: a wheelhouse (--find-links) or an index
(--index-url) when given; otherwise the checkout the core itself was installed from, found
through PEP 610's direct_url.json.

What is installed already stays at its version (a constraint for each, `keeping_installed`):
pip alone would upgrade a shared dependency to suit the integration's newest requirements and
break what else needs it (ZenML's OpenTelemetry pins, another cloud's fsspec), saying so only
in a warning.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import shutil
import subprocess
import sys
import tempfile
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from holdall.catalogue import CatalogueEntry, canonical_name
from holdall.errors import HoldallError


class InstallError(HoldallError):
    pass


class InstallerFailed(InstallError):
    """pip (or uv) itself failed: could not resolve, could not download, could not build."""


def core_checkout() -> Path | None:
    """The folder holdall was installed from (`pip install .` or `-e .`), if it was."""
    try:
        text = metadata.distribution("holdall").read_text("direct_url.json")
    except metadata.PackageNotFoundError:
        return None
    if not text:
        return None
    origin = json.loads(text)
    url = str(origin.get("url", ""))
    if "dir_info" not in origin or not url.startswith("file:"):
        return None
    folder = Path(urllib.request.url2pathname(urllib.parse.urlparse(url).path))
    return folder if (folder / "flavors.yaml").is_file() else None


@dataclass(frozen=True)
class Installer:
    use_uv: bool = False
    find_links: str | None = None
    index_url: str | None = None
    extra: tuple[str, ...] = field(default=())
    constraints: str | None = None  # a file of name==version the install may not change

    def _base(self, verb: str) -> list[str]:
        if not self.use_uv:
            return [sys.executable, "-m", "pip", verb]
        uv = shutil.which("uv")
        if uv is None:
            raise InstallError("uv is not installed", fix="pip install uv, or leave out --uv")
        return [uv, "pip", verb, "--python", sys.executable]

    def source(self, entry: CatalogueEntry) -> str:
        """What to hand the installer: a requirement, or the integration's folder."""
        if self.find_links or self.index_url:
            return entry.distribution
        checkout = core_checkout()
        if checkout is None:
            raise InstallError(
                f"cannot tell where to find {entry.distribution}: holdall was not installed "
                "from a checkout",
                fix=f"holdall integration install {entry.name} --find-links DIR (wheels from "
                "`make wheels`) or --index-url URL",
            )
        folder = checkout / entry.source
        if not (folder / "pyproject.toml").is_file():
            raise InstallError(f"{folder} does not hold {entry.distribution} (no pyproject.toml)")
        return str(folder)

    def install_command(self, entry: CatalogueEntry) -> list[str]:
        command = [*self._base("install"), self.source(entry)]
        if self.find_links:
            command += ["--find-links", self.find_links]
        if self.index_url:
            command += ["--index-url", self.index_url]
        if self.constraints:
            command += ["--constraint", self.constraints]
        return command + list(self.extra)

    def uninstall_command(self, entry: CatalogueEntry) -> list[str]:
        command = self._base("uninstall")
        return [*command, *([] if self.use_uv else ["--yes"]), entry.distribution]

    def would_install(self, entry: CatalogueEntry) -> list[str]:
        """name==version of everything the install would bring, asking the installer."""
        command = self.install_command(entry)
        if self.use_uv:
            # uv says its plan on stderr, a " + name==version" line for each install.
            plan = run([*command, "--dry-run"], capture=True).stderr
            return [line[3:].strip() for line in plan.splitlines() if line.startswith(" + ")]
        report = run([*command, "--dry-run", "--quiet", "--report", "-"], capture=True).stdout
        installs = json.loads(report).get("install", [])
        return sorted(f"{i['metadata']['name']}=={i['metadata']['version']}" for i in installs)


def installed_pins(but: str) -> list[str]:
    """name==version of each distribution installed in this Python, but `but` (the
    integration itself, which an install may upgrade)."""
    pins: dict[str, str] = {}
    for distribution in metadata.distributions():
        name, version = distribution.metadata["Name"], distribution.version
        if name and version and canonical_name(name) != canonical_name(but):
            pins.setdefault(canonical_name(name), f"{name}=={version}")
    return sorted(pins.values())


@contextlib.contextmanager
def keeping_installed(installer: Installer, entry: CatalogueEntry) -> Iterator[Installer]:
    """`installer`, constrained to leave every installed distribution at its version."""
    with tempfile.NamedTemporaryFile("w", prefix="holdall-installed-", suffix=".txt") as pins:
        pins.write("\n".join(installed_pins(but=entry.distribution)) + "\n")
        pins.flush()
        yield dataclasses.replace(installer, constraints=pins.name)


def run(command: list[str], capture: bool = False) -> subprocess.CompletedProcess[str]:
    completed = subprocess.run(command, capture_output=capture, text=True, check=False)
    if completed.returncode != 0:
        detail = (completed.stderr or "").strip().splitlines()[-1:] if capture else []
        raise InstallerFailed(
            f"`{' '.join(command)}` failed (exit {completed.returncode})"
            + (f": {detail[0]}" if detail else ""),
            # An old pip gives up on resolutions a current one finds (0.1's holdall-s3, with
            # boto3 beside s3fs, was one).
            fix="see the installer's output above; if pip could not resolve the versions, "
            f"upgrade it ({sys.executable} -m pip install --upgrade pip) and retry",
        )
    return completed
