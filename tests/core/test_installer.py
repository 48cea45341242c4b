"""What an integration's install is told to keep: every version installed here, but its own."""

from __future__ import annotations

import os
from importlib import metadata

from holdall.catalogue import load_catalogue
from holdall.installer import Installer, installed_pins, keeping_installed


def test_every_installed_version_is_pinned_but_the_integrations_own() -> None:
    pins = installed_pins(but="Holdall_S3")  # as pip spells names: any case, - or _
    assert f"pytest=={metadata.version('pytest')}" in pins
    assert f"holdall=={metadata.version('holdall')}" in pins
    assert not [pin for pin in pins if pin.lower().startswith(("holdall-s3==", "holdall_s3=="))]
    assert len({pin.split("==")[0].lower() for pin in pins}) == len(pins)  # one pin a name


def test_the_install_command_carries_the_pins_while_it_runs() -> None:
    entry = load_catalogue().entries["s3"]
    installer = Installer(find_links="/wheels")
    with keeping_installed(installer, entry) as keeping:
        command = keeping.install_command(entry)
        constraint = command[command.index("--constraint") + 1]
        with open(constraint) as pins:
            assert f"pytest=={metadata.version('pytest')}\n" in pins.read()
    assert not os.path.exists(constraint)
    assert "--constraint" not in installer.install_command(entry)
