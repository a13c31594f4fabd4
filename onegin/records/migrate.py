"""Run the app's Alembic migrations (``migrations/`` at the repository root).

Optuna's RDB storage shares the database and keeps its own revision in the
default ``alembic_version`` table, so ours lives in `VERSION_TABLE`. Concurrent
upgrades (several processes starting at once) are serialised by a lock taken
inside the migration transaction (see `engine.lock_for_migration`).
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext

from onegin.records.engine import make_engine

VERSION_TABLE = "onegin_alembic_version"
# onegin/records/migrate.py -> the repository root. Works from a source checkout and
# an editable install (pip install -e .), where this file stays in the checkout.
MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


def alembic_config(url: str) -> Config:
    """An Alembic `Config` for our migrations against ``url`` (no alembic.ini needed)."""
    if not (MIGRATIONS_DIR / "env.py").is_file():
        raise FileNotFoundError(
            f"Onegin's migrations are not at {MIGRATIONS_DIR}; they ship with the source "
            "tree, so install Onegin from a checkout (pip install -e .)")
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # Config values go through ConfigParser interpolation: escape URL-encoded '%'.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the app tables at ``url`` up to ``revision``; a no-op when already there."""
    command.upgrade(alembic_config(url), revision)


def current(url: str) -> str | None:
    """The revision the database at ``url`` is at (None before the first upgrade)."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"version_table": VERSION_TABLE})
            return context.get_current_revision()
    finally:
        engine.dispose()
