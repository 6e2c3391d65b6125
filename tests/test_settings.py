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


def test_documented_production_mail_settings_pass_check_deploy():
    """SMTP from the environment: the options reach MAILERS and mail.E001 is gone."""
    import subprocess
    import sys

    from django.conf import settings

    env = {
        "DJANGO_SETTINGS_MODULE": "egov.settings",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "k" * 60,
        "EGOV_EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EGOV_SMTP_HOST": "smtp.example.jp",
        "EGOV_SMTP_SSL": "1",
        "EGOV_SMTP_USER": "egov",
        "EGOV_SMTP_PASSWORD": "secret",
        "PATH": "/usr/bin:/bin",
    }
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "from django.core.management import call_command; "
        "print(settings.MAILERS['default']['OPTIONS']); call_command('check', '--deploy')"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=settings.BASE_DIR, capture_output=True, text=True
    )
    assert "'host': 'smtp.example.jp', 'port': 465" in result.stdout
    assert "'use_tls': False, 'use_ssl': True" in result.stdout
    assert "mail.E001" not in result.stdout + result.stderr
    # STARTTLS and SSL together are refused at start-up, naming the variables.
    env |= {"EGOV_SMTP_STARTTLS": "1"}
    refused = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
    )
    assert refused.returncode != 0 and "EGOV_SMTP_STARTTLS" in refused.stderr
