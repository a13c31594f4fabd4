"""Turn the ``database_url`` setting into a record store.

Both backends, SQLite and PostgreSQL, are the one `RecordStore` over SQLAlchemy
(their differences live in `onegin.records.engine`), so resolving a URL means
checking that it names one of them, then opening the store.
"""

from __future__ import annotations

import sqlalchemy as sa

from onegin.errors import ConfigError
from onegin.records.store import RecordStore

BACKENDS = ("sqlite", "postgresql")
_FIELD = "database_url"


def open_record_store(url: str, *, upgrade: bool = False) -> RecordStore:
    """``sqlite:///file`` or ``postgresql+psycopg2://…`` -> `RecordStore`.

    ``upgrade`` first brings the tables up to the newest migration (the embedded
    mode does; a cluster runs ``onegin db upgrade`` once instead). Nothing is
    contacted unless ``upgrade``: call ``ping()`` for readiness.
    """
    try:
        backend = sa.make_url(url).get_backend_name()
    except sa.exc.ArgumentError:
        raise ConfigError(_FIELD, "is not a database URL; expected sqlite:///file or "
                                  "postgresql+psycopg2://user:password@host/db") from None
    if backend not in BACKENDS:
        raise ConfigError(_FIELD, f"unsupported database {backend!r}; "
                                  "use sqlite:///file or postgresql+psycopg2://…")
    return RecordStore(url, upgrade=upgrade)
