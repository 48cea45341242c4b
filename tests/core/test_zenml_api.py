"""ZenML's API as ZenML users write it: top-level save/load, one Client, materializers."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import update

from holdall import Client, load_artifact, save_artifact
from holdall.errors import AlreadyExistsError, ConfigError
from holdall.materializers import BaseMaterializer, registry
from holdall.materializers.registry import UnsupportedTypeError
from holdall.metadata.tables import ArtifactVersionRow
from holdall.registry import Registry

# ZenML's documented custom materializer, carried over as is: only the imports change
# (zenml.materializers.base_materializer -> holdall.materializers; ZenML's ArtifactType enum
# is not there, and any value is accepted in its place).
ZENML_MATERIALIZER = '''
import os
from typing import Any, Dict, Type

from holdall.materializers import BaseMaterializer


class MyObj:
    def __init__(self, name: str):
        self.name = name


class MyMaterializer(BaseMaterializer):
    ASSOCIATED_TYPES = (MyObj,)
    ASSOCIATED_ARTIFACT_TYPE = "DataArtifact"

    def load(self, data_type: Type[MyObj]) -> MyObj:
        """Read from artifact store."""
        with self.artifact_store.open(os.path.join(self.uri, "data.txt"), "r") as f:
            name = f.read()
        return MyObj(name=name)

    def save(self, my_obj: MyObj) -> None:
        """Write to artifact store."""
        with self.artifact_store.open(os.path.join(self.uri, "data.txt"), "w") as f:
            f.write(my_obj.name)

    def extract_metadata(self, data: MyObj) -> Dict[str, Any]:
        return {"length": len(data.name), **super().extract_metadata(data)}

    def save_visualizations(self, data: MyObj) -> Dict[str, Any]:
        return super().save_visualizations(data)
'''


@pytest.fixture(autouse=True)
def clean_materializer_registry(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(registry, "_registered", [])
    yield


@pytest.fixture
def zenml_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """my_zenml_code.py on the path, as a user's project would have it."""
    site = tmp_path / "project"
    site.mkdir()
    (site / "my_zenml_code.py").write_text(ZENML_MATERIALIZER)
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setenv("PYTHONPATH", str(site))
    yield site
    sys.modules.pop("my_zenml_code", None)


def run_python(source: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(source)],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=120,
    )


def test_top_level_save_and_load_use_the_active_stack(tmp_path: Path) -> None:
    client = Client()
    client.register_artifact_store("elsewhere", "local", path=str(tmp_path / "elsewhere"))
    client.register_stack("other", "elsewhere")
    first = save_artifact({"lr": 0.1}, "config")
    client.activate_stack("other")
    second = save_artifact({"lr": 0.2}, "config")
    assert (first.version, second.version) == (1, 2)
    assert second.uri == f"{tmp_path}/elsewhere/_saved/config/2"
    assert load_artifact("config") == {"lr": 0.2}
    assert load_artifact("config", version=1) == {"lr": 0.1}
    assert load_artifact("config", "1") == {"lr": 0.1}
    assert load_artifact(first.id) == {"lr": 0.1}  # by a version's id, as ZenML allows
    assert Client().get_artifact_version("config", version="2").load() == {"lr": 0.2}


def test_a_version_may_be_given_once() -> None:
    assert save_artifact(1, "counted", version=5).version == 5
    with pytest.raises(AlreadyExistsError, match="artifact 'counted' already has a version 5"):
        save_artifact(2, "counted", version="5")
    assert save_artifact(3, "counted").version == 6
    with pytest.raises(ConfigError, match="invalid version 'v2'"):
        save_artifact(4, "counted", version="v2")
    assert [v.version for v in Client().list_artifact_versions("counted")] == [5, 6]


def test_zenml_arguments_holdall_has_no_use_for() -> None:
    kept = save_artifact(
        [1],
        "plain",
        artifact_type="DataArtifact",
        extract_metadata=False,
        include_visualizations=False,
    )
    assert kept.load() == [1]
    for refused in ({"user_metadata": {"a": 1}}, {"uri": "/somewhere"}):
        (key,) = refused
        with pytest.raises(ConfigError, match=f"holdall does not keep {key}"):
            save_artifact([2], "plain", **refused)
    assert [v.version for v in Client().list_artifact_versions("plain")] == [1]
    tagged = save_artifact([3], "plain", tags=["prod"])  # ZenML's tags are kept
    assert tagged.tags == ("prod",)


def test_one_client_per_process_and_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert Client() is Client()
    monkeypatch.setenv("HOLDALL_DATABASE_URL", f"sqlite:///{tmp_path}/other.db")
    other = Client()
    assert other is Client() and other.database.url.endswith("other.db")
    monkeypatch.delenv("HOLDALL_DATABASE_URL")
    assert Client() is not other
    private = Client(registry=Registry.discover())
    assert private is not Client() and private is not Client(registry=Registry.discover())


def test_a_zenml_materializer_works_unchanged(zenml_module: Path) -> None:
    import my_zenml_code  # type: ignore[import-not-found]

    version = save_artifact(my_zenml_code.MyObj("hello"), "greeting")
    assert version.materializer == "my_zenml_code:MyMaterializer"
    assert load_artifact("greeting").name == "hello"
    assert Path(version.uri, "data.txt").read_text() == "hello"

    # Another process that never imports the module finds the materializer by its path.
    loaded = run_python(
        """
        from holdall import load_artifact
        obj = load_artifact("greeting")
        print(type(obj).__module__, obj.name)
        """
    )
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.strip() == "my_zenml_code hello"


def test_a_materializer_that_cannot_be_found_is_named(
    zenml_module: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import my_zenml_code

    save_artifact(my_zenml_code.MyObj("hello"), "greeting")
    monkeypatch.setenv("PYTHONPATH", "")
    missing = run_python("from holdall import load_artifact; load_artifact('greeting')")
    assert "UnsupportedTypeError: the materializer my_zenml_code:MyMaterializer" in missing.stderr
    assert "cannot be imported here (ModuleNotFoundError" in missing.stderr


@pytest.mark.parametrize("recorded", ["json:dumps", "holdall.errors:HoldallError", "this:s"])
def test_a_recorded_path_that_is_no_materializer_is_refused(recorded: str) -> None:
    version = save_artifact({"a": 1}, "tampered")
    with Client().database.session() as session:
        session.execute(
            update(ArtifactVersionRow)
            .where(ArtifactVersionRow.id == version.id)
            .values(materializer=recorded)
        )
    with pytest.raises(UnsupportedTypeError, match="is not a materializer class"):
        load_artifact("tampered")


def test_a_materializer_defined_in_a_script_is_named_when_another_script_loads(
    tmp_path: Path,
) -> None:
    saved = run_python(
        """
        from holdall import save_artifact
        from holdall.materializers import BaseMaterializer

        class Box:
            pass

        class BoxMaterializer(BaseMaterializer):
            ASSOCIATED_TYPES = (Box,)

            def save(self, data):
                with self.artifact_store.open(self.path("box"), "w") as f:
                    f.write("box")

        save_artifact(Box(), "box")
        """
    )
    assert saved.returncode == 0, saved.stderr
    with pytest.raises(UnsupportedTypeError, match="was defined in a script"):
        load_artifact("box")


def test_defining_a_materializer_registers_it_and_checks_it() -> None:
    class Celsius(float):
        pass

    class CelsiusMaterializer(BaseMaterializer):
        ASSOCIATED_TYPES = (Celsius,)

        def save(self, data: Celsius) -> None:
            with self.artifact_store.open(self.path("c.txt"), "w") as f:
                f.write(repr(float(data)))

        def load(self, data_type: type) -> Celsius:
            with self.artifact_store.open(self.path("c.txt"), "r") as f:
                return Celsius(f.read())

    assert registry._registered == [CelsiusMaterializer]
    version = save_artifact(Celsius(21.5), "temperature")
    assert version.materializer.endswith("CelsiusMaterializer")

    class Intermediate(BaseMaterializer):  # no types: a base for others, nothing to register
        pass

    assert Intermediate not in registry._registered
    with pytest.raises(TypeError, match=r"ASSOCIATED_TYPES holds types or 'module\.Class' strings"):

        class Broken(BaseMaterializer):
            ASSOCIATED_TYPES = (42,)  # type: ignore[assignment]


def test_choosing_a_materializer_imports_nothing_the_value_did_not_bring() -> None:
    chosen = run_python(
        """
        import sys
        from holdall.materializers.registry import choose
        choose({"a": 1}); choose(b"x"); choose([1, 2])
        print(sorted(m for m in ("numpy", "pandas", "pyarrow") if m in sys.modules))
        """
    )
    assert chosen.returncode == 0, chosen.stderr
    assert chosen.stdout.strip() == "[]"
