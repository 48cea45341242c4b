"""What an integration's install is told to keep: every version installed here, but its own."""

from __future__ import annotations

import os
from importlib import metadata

import pytest

from holdall import __version__
from holdall.catalogue import load_catalogue
from holdall.installer import (
    Installer,
    Sources,
    Target,
    installed_pins,
    keeping_installed,
    shown_command,
    shown_url,
)


def test_every_installed_version_is_pinned_but_the_integrations_own() -> None:
    pins = installed_pins(but="Holdall_S3")  # as pip spells names: any case, - or _
    assert f"pytest=={metadata.version('pytest')}" in pins
    assert f"holdall=={metadata.version('holdall')}" in pins
    assert not [pin for pin in pins if pin.lower().startswith(("holdall-s3==", "holdall_s3=="))]
    assert len({pin.split("==")[0].lower() for pin in pins}) == len(pins)  # one pin a name


def test_the_install_command_carries_the_pins_while_it_runs() -> None:
    entry = load_catalogue().entries["s3"]
    installer = Installer(sources=Sources(find_links=("/wheels",)))
    target = Target(("holdall-s3==0.2.0",), "holdall-s3 0.2.0")
    with keeping_installed(installer, entry) as keeping:
        command = keeping.install_command(target)
        assert command[4:8] == ["holdall-s3==0.2.0", "--find-links", "/wheels", "--constraint"]
        constraint = command[command.index("--constraint") + 1]
        with open(constraint) as pins:
            assert f"pytest=={metadata.version('pytest')}\n" in pins.read()
    assert not os.path.exists(constraint)
    assert "--constraint" not in installer.install_command(target)


def test_allowed_upgrades_still_keep_the_core() -> None:
    entry = load_catalogue().entries["s3"]
    with keeping_installed(Installer(), entry, everything=False) as keeping:
        assert keeping.constraints
        with open(keeping.constraints) as pins:
            assert pins.read() == f"holdall=={__version__}\n"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("http://127.0.0.1:8080/simple/", "http://127.0.0.1:8080/simple/"),
        ("https://user:s3cret@host/simple/", "https://user:[HIDDEN]@host/simple/"),
        ("https://tok3n@host/simple/", "https://[HIDDEN]@host/simple/"),
        ("https://user:pa:ss@wd@host/simple/", "https://user:[HIDDEN]@host/simple/"),
        ("/some/wheels", "/some/wheels"),
    ],
)
def test_a_source_shown_never_shows_its_credentials(url: str, shown: str) -> None:
    assert shown_url(url) == shown
    command = Installer(sources=Sources(index_url=url)).install_command(Target(("x",), "x"))
    assert url in command
    assert shown in shown_command(command)
    for secret in ("s3cret", "tok3n", "pa:ss@wd"):
        assert secret not in shown_command(command)
