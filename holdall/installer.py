"""Installing an integration: its one distribution and what it requires, into this Python.

Where the distribution comes from: the package index pip (or uv) is configured with, or the
sources given (--index-url, --extra-index-url, --find-links, --no-index). The catalogue names
the versions that fit this core; the newest of them is looked up first, without installing
anything, so that a distribution that is missing or does not fit is refused before anything
changes. Only when the core itself is an editable install from a checkout, and no source is
given, does the integration come from that checkout (development).

What is installed already stays at its version (a constraint for each, `keeping_installed`):
pip alone would upgrade a shared dependency to suit the integration's newest requirements and
break what else needs it (ZenML's OpenTelemetry pins, another cloud's fsspec), saying so only
in a warning. The core itself never moves.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import NoReturn

from packaging.utils import canonicalize_name

from holdall import __version__
from holdall.catalogue import CatalogueEntry
from holdall.errors import HoldallError
from holdall.integration import core_fits, core_requirement
from holdall.secrets import MASK, without_url_passwords


class InstallError(HoldallError):
    pass


class InstallerFailed(InstallError):
    """pip (or uv) itself failed: could not resolve the versions, could not build."""


class NotInSources(InstallError):
    """No index or folder the installer looked in has a distribution it needs."""


# What pip and uv print when they cannot reach an index (refused, timed out, unknown host).
_UNREACHABLE = (
    "connection broken by",
    "Max retries exceeded",
    "NewConnectionError",
    "ConnectTimeoutError",
    "ReadTimeoutError",
    "Failed to fetch",
    "error sending request",
    "Connection refused",
    "operation timed out",
)
# ... when it refused them (pip says so with -v, uv always)
_REFUSED = re.compile(r"\b(401|403)\b[^\n]*?\b(Unauthorized|Forbidden)\b")
# ... and when the index answered but has no version that satisfies the request.
_NOT_FOUND_FOR = re.compile(r"No matching distribution found for (\S+)|Because (\S+) was not found")
_NOT_FOUND = (
    "No matching distribution found",
    "Could not find a version",
    "No solution found",
    "not found in the package registry",
    "not found in the provided package locations",
)


def core_checkout() -> Path | None:
    """The checkout holdall is an editable install from (`pip install -e .`), if it is one."""
    try:
        text = metadata.distribution("holdall").read_text("direct_url.json")
    except metadata.PackageNotFoundError:
        return None
    if not text:
        return None
    origin = json.loads(text)
    url = str(origin.get("url", ""))
    if not origin.get("dir_info", {}).get("editable") or not url.startswith("file:"):
        return None
    folder = Path(urllib.request.url2pathname(urllib.parse.urlparse(url).path))
    return folder if (folder / "flavors.yaml").is_file() else None


def shown_url(url: str) -> str:
    """A source's URL as it may be printed: any user and password in it masked."""
    parts = urllib.parse.urlsplit(url)
    if not parts.username and not parts.password:
        return url
    user = f"{parts.username}:{MASK}" if parts.password else MASK
    host = parts.netloc.rsplit("@", 1)[1]
    return urllib.parse.urlunsplit(parts._replace(netloc=f"{user}@{host}"))


@dataclass(frozen=True)
class Sources:
    """Where to look, as given on the command line; nothing given means the installer's own
    configuration (pip.conf, PIP_INDEX_URL, PIP_EXTRA_INDEX_URL; uv's for uv)."""

    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()
    no_index: bool = False

    @property
    def given(self) -> bool:
        return bool(self.index_url or self.extra_index_urls or self.find_links or self.no_index)

    def options(self, show: bool = False) -> list[str]:
        def url(value: str) -> str:
            return shown_url(value) if show else value

        options = ["--no-index"] if self.no_index else []
        if self.index_url:
            options += ["--index-url", url(self.index_url)]
        for extra in self.extra_index_urls:
            options += ["--extra-index-url", url(extra)]
        for links in self.find_links:
            options += ["--find-links", url(links)]
        return options

    def described(self, tool: str) -> str:
        if not self.given:
            return f"the package index {tool} is configured with"
        places = [] if self.no_index or not self.index_url else [shown_url(self.index_url)]
        places += [shown_url(extra) for extra in self.extra_index_urls if not self.no_index]
        places += [shown_url(links) for links in self.find_links]
        return ", ".join(places) if places else "no index (--no-index) and no --find-links"

    def missing_folder(self) -> str | None:
        """A --find-links folder that is not there (pip would only warn and look elsewhere)."""
        for links in self.find_links:
            if "://" not in links and not Path(links).exists():
                return links
        return None


@dataclass(frozen=True)
class Release:
    """One version of a distribution an index offers, and the core versions it requires
    (None when the installer does not say: uv's plan names versions only)."""

    version: str
    requires_core: str | None


@dataclass(frozen=True)
class Target:
    """What the installer is handed for an integration, and how to say it."""

    args: tuple[str, ...]
    what: str


@dataclass(frozen=True)
class Installer:
    use_uv: bool = False
    sources: Sources = field(default_factory=Sources)
    constraints: str | None = None  # a file of name==version the install may not change

    @property
    def tool(self) -> str:
        return "uv" if self.use_uv else "pip"

    def _base(self, verb: str) -> list[str]:
        if not self.use_uv:
            return [sys.executable, "-m", "pip", verb]
        # uv installed into this environment comes first, activated or not; then the PATH's.
        uv = shutil.which("uv", path=sysconfig.get_path("scripts")) or shutil.which("uv")
        if uv is None:
            raise InstallError("uv is not installed", fix="pip install uv, or leave out --uv")
        return [uv, "pip", verb, "--python", sys.executable]

    def target(self, entry: CatalogueEntry) -> Target:
        """The checkout's folder in development, else the newest release that fits."""
        checkout = None if self.sources.given else core_checkout()
        if checkout is not None:
            folder = checkout / entry.source
            if not (folder / "pyproject.toml").is_file():
                raise InstallError(f"{folder} does not hold {entry.distribution}")
            return Target(
                ("-e", str(folder)),
                f"{entry.distribution} from the checkout {folder} (editable, as holdall is; "
                "--index-url or --find-links install a release instead)",
            )
        release = self.fitting_release(entry)
        return Target(
            (f"{entry.distribution}=={release.version}",),
            f"{entry.distribution} {release.version}",
        )

    def fitting_release(self, entry: CatalogueEntry) -> Release:
        """The newest release of `entry` that fits this core, asked of the sources without
        installing anything; what is missing or does not fit is refused, saying why."""
        missing = self.sources.missing_folder()
        if missing:
            raise InstallError(f"--find-links {missing}: no such folder")
        release = self.newest(entry.requirement)
        if release is None:
            self._refuse_unfitting(entry, self.newest(entry.distribution))
        if release.requires_core and not core_fits(release.requires_core):
            raise InstallError(
                f"{entry.distribution} {release.version} works with holdall"
                f"{release.requires_core}, but holdall {__version__} is installed",
                fix=self._core_upgrade(release.requires_core, entry.name),
            )
        return release

    def _refuse_unfitting(self, entry: CatalogueEntry, newest: Release | None) -> NoReturn:
        where = self.sources.described(self.tool)
        if newest is None:
            raise InstallError(
                f"{entry.distribution} is not in {where}",
                fix=f"holdall integration install {entry.name} --index-url URL (an index that "
                "has it) or --find-links DIR (a folder of its wheels)",
            )
        needs = f" (it works with holdall{newest.requires_core})" if newest.requires_core else ""
        raise InstallError(
            f"{where} has {entry.distribution} {newest.version}{needs}, but holdall "
            f"{__version__} works with {entry.requirement} and there is none of those",
            fix=self._core_upgrade(newest.requires_core or "", entry.name),
        )

    def _core_upgrade(self, requires_core: str, name: str) -> str:
        options = " ".join(self.sources.options(show=True))
        core = f"'holdall{requires_core}'" if requires_core else "--upgrade holdall"
        installer = "uv pip" if self.use_uv else "pip"
        return (
            f"{installer} install {core}{' ' + options if options else ''} (a core that "
            f"works with it), then holdall integration install {name}"
        )

    def newest(self, requirement: str) -> Release | None:
        """The release the installer would pick for `requirement` alone (no dependencies),
        None if the sources have none."""
        if self.use_uv:
            return self._newest_by_uv(requirement)
        with tempfile.TemporaryDirectory(prefix="holdall-install-") as folder:
            report = Path(folder) / "report.json"
            command = [
                *self._base("install"),
                "-vv",  # pip names the status of a refused request at debug level only
                "--dry-run",
                "--no-deps",
                "--ignore-installed",
                "--report",
                str(report),
                *self.sources.options(),
                requirement,
            ]
            completed = self._lookup(command)
            if completed is None:
                return None
            chosen = json.loads(report.read_text()).get("install", [])
        if not chosen:
            return None
        found = chosen[0]["metadata"]
        return Release(found["version"], core_requirement(found.get("requires_dist") or []))

    def _newest_by_uv(self, requirement: str) -> Release | None:
        command = [
            *self._base("install"),
            "--dry-run",
            "--no-deps",
            "--reinstall",
            *self.sources.options(),
            requirement,
        ]
        completed = self._lookup(command)
        planned = _uv_plan(completed.stderr) if completed else []
        return Release(planned[0].partition("==")[2], None) if planned else None

    def _lookup(self, command: list[str]) -> subprocess.CompletedProcess[str] | None:
        """`ask`, but None when the sources have nothing that satisfies the request."""
        try:
            return ask(self, command)
        except NotInSources:
            return None

    def failure(self, command: list[str], output: str, code: int) -> InstallError:
        """What went wrong, from what the installer printed: an index it could not reach, a
        distribution none of the sources has, or anything else (a conflict, a build)."""
        where = _looked_in(output) or self.sources.described(self.tool)
        refused = _REFUSED.search(output)
        if refused:
            return InstallError(
                f"a package index refused {self.tool}'s request ({refused.group(1)} "
                f"{refused.group(2)}); it looked in {where}",
                fix="check the user and password (or token) in the index's URL",
            )
        if any(sign in output for sign in _UNREACHABLE):
            return InstallError(
                f"could not reach a package index ({_unreachable_reason(output)}; {self.tool} "
                f"gave up after its retries); it looked in {where}",
                fix="check the URL and that the index is up (`pip config list` shows pip's "
                "own), or give another with --index-url URL or --find-links DIR",
            )
        missing = _NOT_FOUND_FOR.search(output)
        if missing or any(sign in output for sign in _NOT_FOUND):
            what = next(filter(None, missing.groups())) if missing else "a distribution it needs"
            return NotInSources(
                f"{what} is not in {where}",
                fix="give a source that has it (--index-url URL, --extra-index-url URL); with no "
                "network, a folder that `pip download REQUIREMENT -d DIR` filled on a machine "
                "with one: --no-index --find-links DIR",
            )
        return _failed(command, output, code)

    def install_command(self, target: Target) -> list[str]:
        command = [*self._base("install"), *target.args, *self.sources.options()]
        if self.constraints:
            command += ["--constraint", self.constraints]
        return command

    def uninstall_command(self, entry: CatalogueEntry) -> list[str]:
        command = self._base("uninstall")
        return [*command, *([] if self.use_uv else ["--yes"]), entry.distribution]

    def would_install(self, target: Target) -> list[str]:
        """name==version of everything the install would bring, asking the installer."""
        command = self.install_command(target)
        if self.use_uv:
            return _uv_plan(ask(self, [*command, "--dry-run"]).stderr)
        report = ask(self, [*command, "--dry-run", "--quiet", "--report", "-"]).stdout
        installs = json.loads(report).get("install", [])
        return sorted(f"{i['metadata']['name']}=={i['metadata']['version']}" for i in installs)


def installed_pins(but: str) -> list[str]:
    """name==version of each distribution installed in this Python, but `but` (the
    integration itself, which an install may upgrade)."""
    pins: dict[str, str] = {}
    for distribution in metadata.distributions():
        name, version = distribution.metadata["Name"], distribution.version
        if name and version and canonicalize_name(name) != canonicalize_name(but):
            pins.setdefault(canonicalize_name(name), f"{name}=={version}")
    return sorted(pins.values())


@contextlib.contextmanager
def keeping_installed(
    installer: Installer, entry: CatalogueEntry, everything: bool = True
) -> Iterator[Installer]:
    """`installer`, constrained to leave every installed distribution at its version (or,
    not `everything`, the core alone)."""
    kept = installed_pins(but=entry.distribution) if everything else [f"holdall=={__version__}"]
    with tempfile.NamedTemporaryFile("w", prefix="holdall-installed-", suffix=".txt") as pins:
        pins.write("\n".join(kept) + "\n")
        pins.flush()
        yield dataclasses.replace(installer, constraints=pins.name)


def shown_command(command: list[str]) -> str:
    return " ".join(shown_url(part) if "://" in part else part for part in command)


def _uv_plan(stderr: str) -> list[str]:
    """name==version of each install uv plans: it says so on stderr, " + name==version"."""
    return [line[3:].strip() for line in stderr.splitlines() if line.startswith(" + ")]


def _looked_in(output: str) -> str | None:
    """The indexes pip says it looked in (it names them, passwords masked, unless they are
    its default alone)."""
    for line in output.splitlines():
        if line.startswith("Looking in indexes:"):
            return without_url_passwords(line.partition(":")[2].strip())
    return None


_REASONS = (
    (re.compile(r"Connection refused", re.I), "connection refused"),
    (re.compile(r"timed out|timeout", re.I), "no answer in time"),
    (re.compile(r"Name or service not known|name resolution|dns error", re.I), "unknown host"),
    (re.compile(r"certificate|SSL", re.I), "its TLS certificate was refused"),
)


def _unreachable_reason(output: str) -> str:
    for pattern, reason in _REASONS:
        if pattern.search(output):
            return reason
    return "no connection"


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return without_url_passwords(lines[-1].strip()) if lines else ""


def _failed(command: list[str], output: str, code: int) -> InstallerFailed:
    detail = _last_line(output)
    return InstallerFailed(
        f"`{shown_command(command)}` failed (exit {code})" + (f": {detail}" if detail else ""),
        # An old pip gives up on resolutions a current one finds (0.1's holdall-s3, with
        # boto3 beside s3fs, was one).
        fix="see the installer's output above; if pip could not resolve the versions, "
        f"upgrade it ({sys.executable} -m pip install --upgrade pip) and retry",
    )


def run(installer: Installer, command: list[str]) -> None:
    """Run the installer in the open (its progress is the user's to see), keeping what it
    says on stderr to tell why it failed."""
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    assert process.stderr is not None
    said = []
    for line in process.stderr:
        sys.stderr.write(line)
        said.append(line)
    if process.wait() != 0:
        raise installer.failure(command, "".join(said), process.returncode)


def ask(installer: Installer, command: list[str]) -> subprocess.CompletedProcess[str]:
    """Run the installer for what it prints (a plan, a report), failing as `run` does."""
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise installer.failure(command, completed.stdout + completed.stderr, completed.returncode)
    return completed
