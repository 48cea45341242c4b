"""Which settings are secrets (sealed on disk, [HIDDEN] in output) is read from their type,
however a flavor or an auth method writes it: with validators attached, optional or not."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, SecretStr

from holdall.cli.artifact_store import setting_type
from holdall.secrets import secret_fields


def _checked(value: SecretStr) -> SecretStr:
    return value


Checked = Annotated[SecretStr, AfterValidator(_checked)]


class Settings(BaseModel):
    plain: SecretStr
    optional: SecretStr | None = None
    annotated: Checked
    annotated_optional: Checked | None = None
    name: str = ""
    free_form: dict[str, SecretStr] = {}  # a mapping of them is not one secret setting


def test_a_secret_is_found_however_its_type_is_written() -> None:
    assert secret_fields(Settings) == ["annotated", "annotated_optional", "optional", "plain"]


def test_a_secret_reads_as_one_in_a_flavors_description() -> None:
    fields = Settings.model_fields
    assert setting_type(fields["annotated_optional"].annotation) == "secret | None"
    assert setting_type(fields["annotated"].annotation) == "secret"
