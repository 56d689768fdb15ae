"""``trustsvc keys``: API keys are printed once, stored hashed, listed and revoked."""

from __future__ import annotations

import hashlib
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

from trustsvc.cli.serve import ROLES
from trustsvc.service.keys import Role

TRUSTSVC = str(Path(sys.executable).parent / "trustsvc")


def keys(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "TRUSTSVC_DATABASE_URL": f"sqlite:///{tmp_path / 'keys.db'}"}
    return subprocess.run([TRUSTSVC, "keys", *args], env=env, capture_output=True, text=True, timeout=60)


def test_roles_offered_are_the_roles_that_exist():
    assert ROLES == tuple(r.value for r in Role)


def test_create_list_revoke(tmp_path):
    made = keys(tmp_path, "create", "marches-fr", "--role", "platform", "--pilot", "fr")
    assert made.returncode == 0 and made.stderr == ""
    key = made.stdout.strip()
    assert re.fullmatch(r"[A-Za-z0-9_-]{30,}", key), key
    with sqlite3.connect(tmp_path / "keys.db") as db:
        stored = repr(db.execute("SELECT * FROM api_key").fetchall())  # every column of every row
    assert key not in stored and hashlib.sha256(key.encode()).hexdigest() in stored
    listed = keys(tmp_path, "list").stdout.splitlines()
    assert len(listed) == 1 and listed[0].startswith("marches-fr\tplatform\tfr\t") and listed[0].endswith("\tactive")
    assert keys(tmp_path, "revoke", "marches-fr").stdout == "revoked marches-fr\n"
    assert re.search(r"\trevoked \d{4}-\d\d-\d\d \d\d:\d\dZ$", keys(tmp_path, "list").stdout.strip())


def test_bad_key_commands_say_why_in_one_line(tmp_path):
    revoked = keys(tmp_path, "revoke", "nobody")
    assert (revoked.returncode, revoked.stderr) == (2, "trustsvc: no active key named 'nobody'\n")
    wrong_role = keys(tmp_path, "create", "x", "--role", "root")
    assert wrong_role.returncode == 2
    assert wrong_role.stderr == (
        "trustsvc: Invalid value for '--role': 'root' is not one of 'platform', 'curator', 'admin'.\n"
    )
