"""The known-hash store: SQLAlchemy models, migrations and queries."""

from vigil.store.db import Store, make_engine, normalise_url

__all__ = ["Store", "make_engine", "normalise_url"]
