"""Alembic, used programmatically: the schema's revision, upgrade, downgrade (`booking db`)."""

from __future__ import annotations

import functools
import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from booking.errors import BadInput, CannotRun
from booking.i18n.lang import _
from booking.options.store_url import StoreKind, StoreURL

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy.engine import Connection

    from booking.stores.connect import Database

OUR_TABLES = frozenset({"tickets", "purchases", "runs", "run_hosts", "run_attempts", "keep_runs", "orders"})


def script_location() -> str:
    """The migrations directory, found as the package booking.migrations: in a checkout the editable
    install maps it to ./migrations, and a wheel ships it inside booking/ (pyproject's package-dir)."""
    spec = importlib.util.find_spec("booking.migrations")
    if spec is None or not spec.submodule_search_locations:
        raise CannotRun(_("booking's migrations are missing from this installation (booking/migrations)"))
    return str(Path(next(iter(spec.submodule_search_locations))))


def _config(connection: Connection | None = None) -> Config:
    from alembic.config import Config  # Alembic (and SQLAlchemy) only when a SQL schema is touched

    cfg = Config()
    cfg.set_main_option("script_location", script_location())
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


@functools.cache  # the revisions on disk do not change while booking runs; reading them is ms per trial
def head() -> str:
    from alembic.script import ScriptDirectory

    rev = ScriptDirectory.from_config(_config()).get_current_head()
    assert rev is not None
    return rev


@functools.cache
def known_revisions() -> frozenset[str]:
    from alembic.script import ScriptDirectory

    return frozenset(s.revision for s in ScriptDirectory.from_config(_config()).walk_revisions())


def current(connection: Connection, display: str = "") -> str | None:
    """The store's schema revision, None for a store Alembic never touched."""
    from alembic.util import CommandError

    try:
        from alembic.runtime.migration import MigrationContext

        return MigrationContext.configure(connection).get_current_revision()
    except CommandError:  # more than one row in alembic_version: booking never writes that
        raise BadInput(
            _("store {display}: alembic_version holds several revisions; not a store booking made").format(
                display=display
            )
        ) from None


def check_known(connection: Connection, display: str, force: bool = False, beside: bool = False) -> str | None:
    """The store's revision, after refusing what is not booking's to change (nothing is changed first):

    a revision this booking does not know (a newer booking's, or another application's), other
    applications' tables, and booking's tables without a revision (a set-up cut short by an older
    booking) unless `force` lets them be dropped and made again. `beside` (--init-store): booking's
    tables may join other applications' tables, as asked.
    """
    from sqlalchemy import inspect

    rev = current(connection, display)
    tables = set(inspect(connection).get_table_names())
    if rev is not None and rev not in known_revisions():
        if "tickets" not in tables:
            raise BadInput(
                _(
                    "store {display}: its alembic_version says {rev!r}, not a booking schema; not a booking store"
                ).format(display=display, rev=rev)
            )
        raise CannotRun(
            _(
                "store {display}: schema revision {rev!r} is unknown to this booking (head is {head!r}); "
                "it was made by a newer booking: upgrade booking, not the store"
            ).format(display=display, rev=rev, head=head())
        )
    if rev is not None:
        return rev
    foreign = sorted(tables - OUR_TABLES - {"alembic_version"})
    if foreign and not beside:
        more = f" and {len(foreign) - 3} more" if len(foreign) > 3 else ""
        raise BadInput(
            _(
                "store {display}: holds other tables ({value}{more}) and no booking schema; booking adds "
                "its tables only to an empty database (--init-store adds them beside yours)"
            ).format(display=display, value=", ".join(foreign[:3]), more=more)
        )
    found = sorted(OUR_TABLES & tables)
    theirs = _not_ours(connection, found)
    if theirs:  # a table with one of booking's names that booking did not make: never touched, --force or not
        name, columns = theirs
        raise BadInput(
            _(
                "store {display}: table {name!r} is another application's (columns {columns}); booking never "
                "changes it, --force or not: give booking a database (or file) of its own"
            ).format(display=display, name=name, columns=", ".join(columns[:5]))
        )
    if found and not force:
        raise BadInput(
            _(
                "store {display}: has table {found!r} but no schema revision (a set-up cut short?); "
                "`booking init --force --store {display}` makes booking's tables again"
            ).format(display=display, found=found[0])
        )
    if found:
        from booking.stores.schema import metadata

        metadata.drop_all(connection, checkfirst=True)
    return None


def _not_ours(connection: Connection, names: list[str]) -> tuple[str, list[str]] | None:
    """The first of `names` with a column booking's schema never gave that table (an older booking's had
    fewer), with its columns."""
    from sqlalchemy import inspect

    from booking.stores.schema import metadata

    inspector = inspect(connection)
    for name in names:
        columns = [c["name"] for c in inspector.get_columns(name)]
        ours = metadata.tables.get(name)
        if ours is None or not set(columns) <= {c.name for c in ours.columns}:
            return name, columns
    return None


def upgrade(connection: Connection, display: str, revision: str = "head", beside: bool = False) -> None:
    check_known(connection, display, beside=beside)
    from alembic import command

    command.upgrade(_config(connection), revision)


def downgrade(connection: Connection, display: str, revision: str) -> None:
    check_known(connection, display)
    from alembic import command

    command.downgrade(_config(connection), revision)


# -- `booking db`: the same, for a store named by its spec


@dataclass(frozen=True)
class SchemaState:
    """A SQL store's schema revision and the newest one this booking knows."""

    store: str  # display form, secrets masked
    revision: str | None  # None: no schema yet
    head: str
    known: bool = True  # False: a revision this booking does not know (a newer booking made it)
    exists: bool = True  # False: a SQLite file that is not there (and a read does not create it)

    @property
    def at_head(self) -> bool:
        return self.revision == self.head

    def to_json(self) -> dict[str, Any]:
        return {
            "store": self.store,
            "revision": self.revision,
            "head": self.head,
            "at_head": self.at_head,
            "known": self.known,
            "exists": self.exists,
        }


def _database(spec: StoreURL | str, deadline_s: float) -> Database:
    from booking.stores.connect import Database

    url = StoreURL.of(spec)
    if url.kind is StoreKind.COUNTER:
        raise BadInput(
            _("store {spec}: `booking db` works on SQL stores; a db.json counter has no schema").format(spec=url.text)
        )
    return Database(url, deadline_s)


def schema_state(spec: StoreURL | str, deadline_s: float = 60.0) -> SchemaState:
    """The store's revision and this booking's head (read only; a server silent for `deadline_s` fails it)."""
    db = _database(spec, deadline_s)
    try:
        if db.missing():  # reading a schema never creates the file it reads
            try:
                db.require_file()  # CannotRun when even its directory is not there
            except BadInput:
                return SchemaState(db.display, None, head(), exists=False)
        with db.admin() as conn:
            revision = current(conn, db.display)
    finally:
        db.dispose()
    return SchemaState(db.display, revision, head(), revision is None or revision in known_revisions())


def move(spec: StoreURL | str, up: bool, revision: str, deadline_s: float = 60.0) -> SchemaState:
    """Upgrade (or downgrade) the store's schema to `revision`; returns where it is now."""
    from alembic.util import CommandError

    from booking.stores.claim import claim

    url = StoreURL.of(spec)
    db = _database(url, deadline_s)
    try:
        if not up:
            db.require_file()  # there is nothing to step back in a file that is not there: do not make one
        with claim(url, True, deadline_s), db.admin() as conn:  # never change the tables under a run's buyers
            (upgrade if up else downgrade)(conn, db.display, revision)
    except CommandError as exc:
        raise BadInput(_("store {display}: {exc}").format(display=db.display, exc=exc)) from None
    finally:
        db.dispose()
    return schema_state(url, deadline_s)


def upgrade_store(spec: StoreURL | str, revision: str = "head", deadline_s: float = 60.0) -> SchemaState:
    """Create or upgrade a store's schema (`booking db upgrade`)."""
    return move(spec, True, revision, deadline_s)


def downgrade_store(spec: StoreURL | str, revision: str = "-1", deadline_s: float = 60.0) -> SchemaState:
    """Step a store's schema back; `base` drops booking's tables (`booking db downgrade`)."""
    return move(spec, False, revision, deadline_s)
