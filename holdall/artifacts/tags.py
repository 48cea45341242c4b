"""Tags on versions: many per version; an exclusive tag ("production") is held by one version
per artifact at most, and giving it to another version moves it there.

The database keeps exclusivity (a unique constraint over tag and artifact): two processes
moving one tag at once leave it on one version, the other's transaction is tried again.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager as ContextManager
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from holdall.errors import ConfigError, HoldallError, InUseError, NotFoundError
from holdall.metadata.database import Database
from holdall.metadata.tables import ArtifactVersionRow, TagRow, VersionTagRow
from holdall.names import check_name

T = TypeVar("T")
S = TypeVar("S")
RETRY_S = 30


@dataclass(frozen=True)
class Tag:
    name: str
    exclusive: bool
    versions: int  # how many versions hold it


def check_tags(tags: Iterable[str]) -> list[str]:
    """The names, checked and without repeats, in the order given."""
    return list(dict.fromkeys(check_name("tag", tag) for tag in tags))


def tag_row(session: Session, name: str, exclusive: bool | None = None) -> TagRow:
    """The tag called `name`, made if new (exclusive if asked). Asking for an existing tag
    with the other kind of exclusivity is refused: it would change what the tag means to
    every version that holds it."""
    row = session.scalar(select(TagRow).where(TagRow.name == name))
    if row is None:
        row = TagRow(name=name, exclusive=bool(exclusive))
        session.add(row)
        session.flush()
    elif exclusive is not None and row.exclusive != exclusive:
        kind = "exclusive" if row.exclusive else "not exclusive"
        raise ConfigError(
            f"tag '{name}' exists and is {kind}",
            fix=f"use it as it is (leave --exclusive {'in' if row.exclusive else 'out'}), or "
            f"pick another name; see: holdall tag list",
        )
    return row


def add(session: Session, version: ArtifactVersionRow, tag: TagRow) -> None:
    """Give `version` the tag; an exclusive one leaves the artifact's other version that had
    it."""
    if tag.exclusive:
        session.execute(
            delete(VersionTagRow).where(
                VersionTagRow.tag_id == tag.id,
                VersionTagRow.exclusive_artifact_id == version.artifact_id,
                VersionTagRow.version_id != version.id,
            )
        )
    held = session.get(VersionTagRow, (version.id, tag.id))
    if held is None:
        artifact = version.artifact_id if tag.exclusive else None
        session.add(
            VersionTagRow(version_id=version.id, tag_id=tag.id, exclusive_artifact_id=artifact)
        )
    session.flush()


def remove(session: Session, version_id: str, names: Sequence[str]) -> None:
    tag_ids = select(TagRow.id).where(TagRow.name.in_(names))
    session.execute(
        delete(VersionTagRow).where(
            VersionTagRow.version_id == version_id, VersionTagRow.tag_id.in_(tag_ids)
        )
    )


def apply(
    session: Session,
    version: ArtifactVersionRow,
    add_tags: Sequence[str] = (),
    remove_tags: Sequence[str] = (),
    exclusive: bool | None = None,
) -> None:
    if remove_tags:
        remove(session, version.id, remove_tags)
    for name in add_tags:
        add(session, version, tag_row(session, name, exclusive))


def tags_of(session: Session, version_ids: Sequence[str]) -> dict[str, list[str]]:
    """Each version's tags, sorted (versions without any are left out)."""
    found: dict[str, list[str]] = {}
    if not version_ids:
        return found
    pairs = session.execute(
        select(VersionTagRow.version_id, TagRow.name)
        .join(TagRow)
        .where(VersionTagRow.version_id.in_(version_ids))
        .order_by(TagRow.name)
    )
    for version_id, name in pairs:
        found.setdefault(version_id, []).append(name)
    return found


def holding(tag: str) -> ColumnElement[bool]:
    """A condition for versions that hold `tag`."""
    return ArtifactVersionRow.id.in_(
        select(VersionTagRow.version_id).join(TagRow).where(TagRow.name == tag)
    )


def retried(transaction: Callable[[], ContextManager[S]], change: Callable[[S], T]) -> T:
    """`change` in a `transaction` of its own (a database's session or plain transaction),
    tried again while another process's concurrent move of an exclusive tag (or creation of
    the same tag) makes it collide."""
    deadline = time.monotonic() + RETRY_S
    pause = 0.005
    while True:
        try:
            with transaction() as opened:
                return change(opened)
        except IntegrityError:
            if time.monotonic() > deadline:
                raise HoldallError(
                    f"could not tag: other processes kept changing the same tags for {RETRY_S} s",
                    fix="try again; if this repeats, the database is overloaded",
                ) from None
            time.sleep(pause * random.uniform(0.5, 1.5))
            pause = min(pause * 2, 0.5)


def all_tags(database: Database) -> list[Tag]:
    with database.session(read_only=True) as session:
        rows = session.execute(
            select(TagRow.name, TagRow.exclusive, func.count(VersionTagRow.version_id))
            .outerjoin(VersionTagRow)
            .group_by(TagRow.id, TagRow.name, TagRow.exclusive)
            .order_by(TagRow.name)
        )
        return [Tag(name, exclusive, count) for name, exclusive, count in rows]


def create(database: Database, name: str, exclusive: bool = False) -> Tag:
    check_name("tag", name)

    def made(session: Session) -> Tag:
        if session.scalar(select(TagRow.id).where(TagRow.name == name)) is not None:
            raise ConfigError(f"a tag called '{name}' already exists", fix="holdall tag list")
        row = tag_row(session, name, exclusive)
        return Tag(row.name, row.exclusive, 0)

    return retried(database.session, made)


def delete_tag(database: Database, name: str, force: bool = False) -> int:
    """Remove the tag (from every version holding it, if `force`); how many held it."""
    with database.session() as session:
        row = session.scalar(select(TagRow).where(TagRow.name == name))
        if row is None:
            raise NotFoundError(f"no tag called '{name}'", fix="holdall tag list")
        held = session.scalar(
            select(func.count(VersionTagRow.version_id)).where(VersionTagRow.tag_id == row.id)
        )
        if held and not force:
            raise InUseError(
                f"tag '{name}' is held by {held} version(s)",
                fix=f"take it off them too: holdall tag delete {name} --force",
            )
        session.execute(delete(VersionTagRow).where(VersionTagRow.tag_id == row.id))
        session.delete(row)
        return int(held or 0)
