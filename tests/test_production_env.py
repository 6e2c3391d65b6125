"""deploy/production.env.example is a working production configuration: `check --deploy` passes."""

import re
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "deploy" / "production.env.example"


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=value lines as systemd's EnvironmentFile reads them (comments on their own lines)."""
    values = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        assert sep and key.isidentifier() and " " not in value, f"not KEY=value: {line!r}"
        values[key] = value
    return values


def run_check(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "egov.settings"} | env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_example_passes_check_deploy_at_warning_level():
    env = read_env_file(EXAMPLE)
    assert env["DJANGO_DEBUG"] == "0"
    env["DJANGO_SECRET_KEY"] = secrets.token_urlsafe(64)
    result = run_check(env)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_placeholder_secret_is_refused():
    """Copying the file without replacing the placeholder must not start an insecure app."""
    result = run_check(read_env_file(EXAMPLE))
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_every_variable_the_settings_read_is_in_the_example_or_the_readme():
    """The example documents production: each variable it sets is described in the README."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    documented = set(read_env_file(EXAMPLE))
    for line in EXAMPLE.read_text(encoding="utf-8").splitlines():
        if line.startswith("#") and "=" in line and line[1:].split("=")[0].isidentifier():
            documented.add(line[1:].split("=")[0])  # commented-out optional ones
    missing = sorted(
        name
        for name in documented
        if f"`{name}`" not in readme and not name.startswith("GUNICORN_")
    )
    assert not missing, f"describe these in the README's table: {missing}"
    settings_source = (ROOT / "egov" / "settings.py").read_text(encoding="utf-8")
    read = set(re.findall(r'env_\w+\("([A-Z_]+)"', settings_source))
    # The claim's default (email) is what every provider sends.
    unset = sorted(read - documented - {"EGOV_OIDC_EMAIL_CLAIM"})
    assert not unset, f"set (or show commented out) in production.env.example: {unset}"
