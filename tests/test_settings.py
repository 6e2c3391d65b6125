"""Settings read from the environment: a bad value names the variable."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from egov.env import env_bool, env_int, env_list, env_str


def test_booleans_are_parsed_strictly(monkeypatch):
    monkeypatch.setenv("DJANGO_DEBUG", "off")
    assert env_bool("DJANGO_DEBUG", True) is False
    monkeypatch.setenv("DJANGO_DEBUG", "ture")
    with pytest.raises(ImproperlyConfigured, match="DJANGO_DEBUG"):
        env_bool("DJANGO_DEBUG", True)


def test_integers_name_the_variable(monkeypatch):
    monkeypatch.setenv("EGOV_SESSION_IDLE_SECONDS", "30分")
    with pytest.raises(ImproperlyConfigured, match="EGOV_SESSION_IDLE_SECONDS"):
        env_int("EGOV_SESSION_IDLE_SECONDS", 1800)
    monkeypatch.setenv("EGOV_SESSION_IDLE_SECONDS", "10")
    with pytest.raises(ImproperlyConfigured, match="EGOV_SESSION_IDLE_SECONDS"):
        env_int("EGOV_SESSION_IDLE_SECONDS", 1800, minimum=60)


def test_lists_refuse_empty_items(monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOWED_HOSTS", "a.example.jp,,b.example.jp")
    with pytest.raises(ImproperlyConfigured, match="DJANGO_ALLOWED_HOSTS"):
        env_list("DJANGO_ALLOWED_HOSTS", [])


def test_a_required_value_must_be_set(monkeypatch):
    monkeypatch.delenv("DJANGO_SECRET_KEY", raising=False)
    with pytest.raises(ImproperlyConfigured, match="DJANGO_SECRET_KEY"):
        env_str("DJANGO_SECRET_KEY")


def test_production_refuses_an_insecure_secret_key(tmp_path):
    import subprocess
    import sys

    from django.conf import settings

    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env={
            "DJANGO_SETTINGS_MODULE": "egov.settings",
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": "short",
            "PATH": "/usr/bin:/bin",
        },
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_language_and_time_zone(settings):
    assert settings.LANGUAGE_CODE == "ja" and settings.TIME_ZONE == "Asia/Tokyo"
    assert ("en", "English") in settings.LANGUAGES
