"""Flavors registered from code on the path (`holdall artifact-store flavor register
package.module.FlavorClass`), as ZenML registers a flavor that is no packaged integration:
recorded in the metadata database, checked when registered, and loaded by the registry
like any other (holdall.registry.Registry.with_registered)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from holdall.errors import AlreadyExistsError, ConfigError, InUseError, NotFoundError
from holdall.metadata.database import Database
from holdall.metadata.tables import ComponentRow, RegisteredFlavorRow
from holdall.names import check_name

if TYPE_CHECKING:
    from holdall.registry import Registry

MAX_NAME = 64  # what a store's record holds of its flavor's name


class RegisteredFlavors:
    def __init__(self, database: Callable[[], Database], registry: Callable[[], Registry]) -> None:
        self._database = database
        self._registry = registry

    def sources(self) -> dict[str, str]:
        """Each registered flavor's name and class ("package.module.Class")."""
        with self._database().session(read_only=True) as session:
            rows = session.scalars(select(RegisteredFlavorRow).order_by(RegisteredFlavorRow.name))
            return {row.name: row.source for row in rows}

    def register(self, source: str) -> str:
        """Record the flavor class at `source`, once it imports and is a flavor; its name."""
        registry = self._registry()
        flavor = registry.flavor_from_source(source)
        name = check_name("flavor", flavor.name)
        if len(name) > MAX_NAME:
            raise ConfigError(f"flavor name '{name}' is longer than {MAX_NAME} characters")
        taken = AlreadyExistsError(
            f"a flavor called '{name}' already exists",
            fix="give the flavor class another name, or see it: holdall artifact-store flavor "
            f"describe {name}",
        )
        # Every flavor's name, from the declarations: none of them needs importing for it.
        if any(name in integration.flavors for integration in registry.integrations()):
            raise taken
        try:
            with self._database().session() as session:
                session.add(RegisteredFlavorRow(name=name, source=source))
                session.flush()
        except IntegrityError:
            raise taken from None
        return name

    def delete(self, name: str) -> None:
        with self._database().session() as session:
            row = session.scalar(
                select(RegisteredFlavorRow).where(RegisteredFlavorRow.name == name)
            )
            if row is None:
                raise NotFoundError(
                    f"no flavor called '{name}' was registered from code",
                    fix="holdall artifact-store flavor list",
                )
            users = session.scalars(
                select(ComponentRow.name).where(ComponentRow.flavor == name)
            ).all()
            if users:
                raise InUseError(
                    f"flavor '{name}' is used by artifact store(s): {', '.join(sorted(users))}",
                    fix=f"delete them first: holdall artifact-store delete {sorted(users)[0]}",
                )
            session.delete(row)
