"""``python -m trustsvc.db upgrade | current | revision MESSAGE``: the developers' migration tool.

Works on ``TRUSTSVC_DATABASE_URL``; ``revision`` first brings that database up to date, then writes a new revision
file from the difference between it and the table definitions (review it before committing).
"""

from __future__ import annotations

import sys

from alembic import command

from ..settings import get_settings
from .migrate import alembic_config, current_revision, migrate
from .session import engine_from_settings


def main(argv: list[str]) -> int:
    engine = engine_from_settings(get_settings())
    try:
        if argv[:1] == ["upgrade"]:
            migrate(engine)
        elif argv[:1] == ["current"]:
            print(current_revision(engine))
        elif argv[:1] == ["revision"] and len(argv) == 2:
            migrate(engine)
            with engine.begin() as connection:
                command.revision(alembic_config(connection), message=argv[1], autogenerate=True)
        else:
            print("usage: python -m trustsvc.db upgrade | current | revision MESSAGE", file=sys.stderr)
            return 2
    finally:
        engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
