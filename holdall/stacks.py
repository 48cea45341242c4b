"""Stacks: which artifact store the pipelines of this machine use, and the `default` stack
every database starts with."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from holdall.artifact_stores.registrations import (
    ARTIFACT_STORE,
    ArtifactStores,
    config_json,
    store_model,
)
from holdall.client_config import read_client_config, write_client_config
from holdall.errors import AlreadyExistsError, InUseError, NotFoundError
from holdall.metadata.database import Database
from holdall.metadata.tables import ComponentRow, StackRow
from holdall.models import Stack, StackModel
from holdall.names import check_name

if TYPE_CHECKING:
    from holdall.artifact_stores.flavor import ArtifactStoreFlavor

DEFAULT = "default"


def stack_model(row: StackRow) -> StackModel:
    return StackModel(
        id=row.id,
        name=row.name,
        artifact_store=store_model(row.artifact_store),
        created=row.created,
    )


def ensure_default_stack(
    database: Database, local_flavor: Callable[[], type[ArtifactStoreFlavor]]
) -> None:
    """On first use, the `default` stack with a store of the local flavor (found through the
    registry, as any flavor is) under the config dir."""
    try:
        with database.session(read_only=True) as session:
            if session.scalar(select(StackRow.id).where(StackRow.name == DEFAULT)):
                return  # the usual case, which then waits for no writer
        with database.session() as session:
            if session.scalar(select(StackRow).where(StackRow.name == DEFAULT)):
                return
            store = ArtifactStores.find(session, DEFAULT)
            if store is None:
                store_id = str(uuid.uuid4())
                flavor = local_flavor()
                config = flavor.config_class(path=flavor.default_path(store_id))
                store = ComponentRow(
                    id=store_id,
                    type=ARTIFACT_STORE,
                    name=DEFAULT,
                    flavor=flavor.name,
                    config=config_json(config),
                )
                session.add(store)
            session.add(StackRow(name=DEFAULT, artifact_store=store))
    except IntegrityError:
        pass  # another process created them first; theirs serve us as well


# What `holdall stack copy current NEW` calls the active stack.
CURRENT = "current"

_STACK = select(StackRow.id, StackRow.name, StackRow.created, StackRow.artifact_store_id)
_STACK_BY_ID = _STACK.where(StackRow.id == bindparam("stack_id"))
_STACK_BY_NAME = _STACK.where(StackRow.name == bindparam("name"))


class Stacks:
    def __init__(self, database: Callable[[], Database], stores: ArtifactStores) -> None:
        self._database = database
        self._stores = stores

    @staticmethod
    def _stack_row(session: Session, name: str) -> StackRow:
        row = session.scalar(select(StackRow).where(StackRow.name == name))
        if row is None:
            known = session.scalars(select(StackRow.name)).all()
            raise NotFoundError(
                f"no stack called '{name}'; registered: {', '.join(sorted(known))}",
                fix="holdall stack list",
            )
        return row

    def _create_stack(self, name: str, store_name: str) -> StackModel:
        check_name("stack", name)
        duplicate = AlreadyExistsError(
            f"a stack called '{name}' already exists",
            fix=f"pick another name, or change it: holdall stack update {name} -a {store_name}",
        )
        try:
            with self._database().session() as session:
                if session.scalar(select(StackRow).where(StackRow.name == name)) is not None:
                    raise duplicate
                row = StackRow(name=name, artifact_store=self._stores.row(session, store_name))
                session.add(row)
                session.flush()
                return stack_model(row)
        except IntegrityError:
            raise duplicate from None  # registered by another process at the same moment

    def register(self, name: str, artifact_store: str) -> StackModel:
        return self._create_stack(name, artifact_store)

    def copy(self, source: str, target: str) -> StackModel:
        return self._create_stack(target, self.get(source).artifact_store.name)

    def get(self, name: str) -> StackModel:
        """The stack called `name`; `current` is the active stack, unless a stack has that
        name (as in ZenML's habit: holdall stack copy current NEW)."""
        with self._database().session(read_only=True) as session:
            found = session.scalar(select(StackRow).where(StackRow.name == name))
            if found is not None:
                return stack_model(found)
            if name == CURRENT:
                return self.active_model
            return stack_model(self._stack_row(session, name))

    def all(self) -> list[StackModel]:
        with self._database().session(read_only=True) as session:
            return [
                stack_model(r) for r in session.scalars(select(StackRow).order_by(StackRow.name))
            ]

    def update(self, name: str, artifact_store: str) -> StackModel:
        with self._database().session() as session:
            row = self._stack_row(session, name)
            row.artifact_store = self._stores.row(session, artifact_store)
            session.flush()
            return stack_model(row)

    def delete(self, name: str) -> None:
        if name == DEFAULT:
            raise InUseError("the default stack cannot be deleted")
        if name == self.active_model.name:
            raise InUseError(f"stack '{name}' is the active stack", fix="holdall stack set default")
        with self._database().session() as session:
            session.delete(self._stack_row(session, name))

    def activate(self, name: str) -> StackModel:
        stack = self.get(name)
        write_client_config({**read_client_config(), "active_stack_id": stack.id})
        return stack

    @property
    def active_model(self) -> StackModel:
        """Read at every save (another process may have set another stack since), as plain
        statements: through the ORM this cost a small save more than its own SQL did."""
        active_id = read_client_config().get("active_stack_id")
        with self._database().transaction(read_only=True) as connection:
            row = None
            if active_id:
                row = connection.execute(_STACK_BY_ID, {"stack_id": active_id}).first()
                if row is None:
                    print(
                        "warning: the active stack no longer exists; using 'default'",
                        file=sys.stderr,
                    )
            if row is None:
                row = connection.execute(_STACK_BY_NAME, {"name": DEFAULT}).first()
            if row is not None:
                store = self._stores.model_in(connection, row.artifact_store_id)
                return StackModel(
                    id=row.id, name=row.name, artifact_store=store, created=row.created
                )
        return self.get(DEFAULT)  # there is none: the error says which stacks there are

    @property
    def active(self) -> Stack:
        model = self.active_model
        return Stack(model=model, artifact_store=self._stores.usable(model.artifact_store))
