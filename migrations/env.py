"""Alembic environment for Onegin's own tables.

The URL comes from the config's ``sqlalchemy.url`` (set by
`onegin.records.migrate.upgrade` from Settings); run through alembic.ini without
one, it falls back to `onegin.settings.load_settings`. Optuna shares the
database: our revision lives in ``onegin_alembic_version`` and autogenerate looks
only at our tables, so it never proposes dropping Optuna's.
"""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy.engine import Connection

from onegin.records.engine import lock_for_migration, make_engine, writer
from onegin.records.migrate import VERSION_TABLE
from onegin.records.models import Base

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url")
    if url:
        return url
    from onegin.settings import load_settings

    return load_settings().database_url


def _include_name(name: str | None, type_: str, _parents: Any) -> bool:
    return type_ != "table" or name in target_metadata.tables


def _configure(**kwargs: Any) -> None:
    context.configure(
        target_metadata=target_metadata,
        version_table=VERSION_TABLE,
        include_name=_include_name,
        compare_type=True,
        render_as_batch=True,  # SQLite alters tables by copying them
        **kwargs,
    )


def run_offline() -> None:
    _configure(url=_url(), literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def _run(connection: Connection) -> None:
    # One transaction for the whole upgrade (SQLite DDL is transactional too), opened
    # by us so that the lock below is held until the version row is written.
    with connection.begin():
        lock_for_migration(connection)
        _configure(connection=connection)
        context.run_migrations()


def run_online() -> None:
    engine = writer(make_engine(_url()))
    try:
        with engine.connect() as connection:
            _run(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
