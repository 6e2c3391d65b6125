"""The default cache is shared between processes (and so between app servers): the database's
cache table by default, made by `migrate` itself; Redis when REDIS_URL is set.

Each side runs as its own `manage.py` process, as two gunicorn workers or two nodes would.
"""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
REDIS_SERVER = "/usr/bin/redis-server"

WRITE = "from django.core.cache import cache; cache.set('egov-shared', '共有', 60)"
READ = "from django.core.cache import cache; print(cache.get('egov-shared'))"


def run(env: dict, *command: str) -> str:
    return subprocess.run(
        [sys.executable, "manage.py", *command],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    ).stdout.strip()


@pytest.fixture
def environment(tmp_path):
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DJANGO_SETTINGS_MODULE": "egov.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path}/cache.sqlite3",
        "EGOV_LOG_LEVEL": "WARNING",
    }


def test_the_database_cache_is_shared_and_made_by_migrate(environment):
    run(environment, "migrate", "-v0")  # no createcachetable step: migrate makes the table
    run(environment, "shell", "-v0", "-c", WRITE)
    assert run(environment, "shell", "-v0", "-c", READ) == "共有"


@pytest.fixture
def redis_url(tmp_path):
    if not Path(REDIS_SERVER).exists():
        pytest.fail("redis-server is missing: scripts/bootstrap dev installs it")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen(
        [REDIS_SERVER, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no",
         "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("redis-server did not start")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.terminate()
        server.wait(timeout=20)


def test_with_redis_url_the_cache_is_redis(environment, redis_url):
    environment["REDIS_URL"] = redis_url
    backend = "from django.conf import settings; print(settings.CACHES['default']['BACKEND'])"
    assert run(environment, "shell", "-v0", "-c", backend).endswith("RedisCache")
    run(environment, "shell", "-v0", "-c", WRITE)
    assert run(environment, "shell", "-v0", "-c", READ) == "共有"
    # No table needed: the value is in Redis, not in this (unmigrated) database.
    assert not Path(environment["DATABASE_URL"].removeprefix("sqlite:///")).exists()
