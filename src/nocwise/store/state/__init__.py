"""State store: SQLAlchemy 2 on SQLite (WAL) by default, PostgreSQL in production."""
