"""Production serving: gunicorn with the repository's config, DJANGO_DEBUG=0, hashed static files
from the manifest the setup builds, a PDF through the worker (run_worker, "reports" queue), and no
cache of anything a logged-in user sees.

The server runs in its own process on a loopback port against its own SQLite file, so this test
commits nothing to the test database.
"""

import html
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
GUNICORN = Path(sys.executable).parent / "gunicorn"
PASSWORD = "a-production-password-2026"

SETUP = f"""
from assessments.models import Assessment, Body, Guideline, User
body = Body.objects.get(code="011002")
User.objects.create_user("sapporo", password="{PASSWORD}", role="body_staff", body=body)
Assessment.objects.create(body=body, guideline=Guideline.objects.get(code="egov-2003"),
                          fiscal_year=2026, status="in_progress")
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Browser:
    """Just enough of a browser: cookies (Secure ones too: this is plain HTTP on loopback)."""

    def __init__(self, base: str):
        self.base, self.cookies = base, {}
        self.opener = urllib.request.build_opener(NoRedirect)

    def request(self, path: str, data: dict | None = None, headers: dict | None = None, raw=None):
        body = urllib.parse.urlencode(data).encode() if data is not None else raw
        request = urllib.request.Request(self.base + path, data=body, headers=headers or {})
        request.add_header("Cookie", "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        try:
            response = self.opener.open(request, timeout=30)
        except urllib.error.HTTPError as error:
            response = error
        for header in response.headers.get_all("Set-Cookie") or []:
            name, value = header.split(";", 1)[0].split("=", 1)
            self.cookies[name] = value
        return response.status, response.headers, response.read()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@pytest.fixture(scope="module")
def production_server(tmp_path_factory):
    if not (ROOT / "staticfiles" / "staticfiles.json").exists():
        pytest.fail("no static manifest: run scripts/bootstrap (it builds staticfiles/)")
    directory = tmp_path_factory.mktemp("production")
    port = free_port()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DJANGO_SETTINGS_MODULE": "egov.settings",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "production-test-" + "k" * 50,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": f"sqlite:///{directory}/production.sqlite3",
        "EGOV_MEDIA_ROOT": str(directory / "media"),
        "EGOV_REPORT_CACHE_DIR": str(directory / "report-cache"),
        "EGOV_LOG_LEVEL": "WARNING",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": "2",
        "GUNICORN_ACCESSLOG": str(directory / "access.log"),
    }
    manage = [PYTHON, "manage.py"]
    for command in (
        ["migrate", "-v0"],
        ["load_guidelines"],
        ["load_bodies"],
        ["shell", "-c", SETUP],
    ):
        subprocess.run(
            manage + command, cwd=ROOT, env=env, check=True, capture_output=True, timeout=300
        )
    # The PDF worker, as deploy/egov-assess-reports-worker.service runs it.
    worker = subprocess.Popen(
        [PYTHON, "manage.py", "run_worker", "--queue-name", "reports", "--interval", "0.2"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(directory / "worker.log", "wb"),  # noqa: SIM115 (closed with the process)
    )
    server = subprocess.Popen(
        [str(GUNICORN), "--config", "deploy/gunicorn.conf.py"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(directory / "gunicorn.log", "wb"),  # noqa: SIM115 (closed with the process)
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(base + "/accounts/login/", timeout=2)
            break
        except OSError:
            time.sleep(0.3)
    else:
        server.kill()
        worker.kill()
        pytest.fail((directory / "gunicorn.log").read_text())
    yield base
    worker.send_signal(signal.SIGTERM)
    try:
        worker.wait(timeout=60)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()
    server.send_signal(signal.SIGINT)  # quick shutdown
    try:
        server.wait(timeout=60)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def test_gunicorn_serves_the_app_in_production_mode(production_server):
    browser = Browser(production_server)
    status, headers, page = browser.request("/accounts/login/")
    assert status == 200
    css = re.search(
        rb'href="(/static/vendor/bootstrap/css/bootstrap\.min\.[0-9a-f]{12}\.css)"', page
    )
    assert css, "static files are not served under their hashed (manifest) names"
    status, static_headers, _css = browser.request(css.group(1).decode())
    assert status == 200 and "max-age" in static_headers["Cache-Control"]

    token = browser.cookies["csrftoken"]
    status, headers, _ = browser.request(
        "/accounts/login/",
        {"username": "sapporo", "password": PASSWORD, "csrfmiddlewaretoken": token},
    )
    assert status == 302, "login refused"
    status, headers, page = browser.request("/")
    assert status == 200 and "札幌市".encode() in page
    assert "no-store" in headers["Cache-Control"] and "private" in headers["Cache-Control"]

    section = "/assessments/011002/2026/egov-2003/sections/II.3/"
    status, headers, page = browser.request(urllib.parse.quote(section))
    assert status == 200 and "no-store" in headers["Cache-Control"]
    form = re.search(rb'data-autosave-url="([^"]+)" data-prefix="([^"]+)"', page)
    assert form, "the section page has no autosaving measure"
    url, prefix = (html.unescape(part.decode()) for part in form.groups())
    status, headers, body = browser.request(
        url,
        {f"{prefix}-version": "0", f"{prefix}-level": "2"},
        headers={"X-CSRFToken": browser.cookies["csrftoken"]},
    )
    assert status == 200, body
    assert json.loads(body)["ok"] and "no-store" in headers["Cache-Control"]

    # The PDF: the first request gets the progress page and queues the render; the worker
    # renders it and the page (here: its JSON poll) says ready; the next request is the PDF.
    report = "/assessments/011002/2026/egov-2003/report.pdf"
    status, headers, page = browser.request(report)
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert "no-store" in headers["Cache-Control"]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        status, headers, body = browser.request(report, headers={"Accept": "application/json"})
        assert status == 200 and not json.loads(body)["failed"], body
        if json.loads(body)["ready"]:
            break
        time.sleep(0.5)
    else:
        pytest.fail("the worker did not render the PDF within 120 s")
    status, headers, pdf = browser.request(report)
    assert status == 200 and headers["Content-Type"] == "application/pdf"
    assert pdf.startswith(b"%PDF-") and b"%%EOF" in pdf[-64:]

    # The probes, as a load balancer sees them: no cookie, no session, never cached.
    for probe in ("/healthz/", "/readyz/"):
        status, headers, body = Browser(production_server).request(probe)
        assert status == 200, body
        assert "no-store" in headers["Cache-Control"] and not headers.get_all("Set-Cookie")
    assert set(json.loads(body).values()) == {"OK"}


def test_gunicorn_refuses_a_1_gib_body_before_reading_it(production_server):
    """A raw client declares 1 GiB, sends a few bytes and waits: the answer is 413 at once."""
    host, port = production_server.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(
            b"POST /assessments/011002/2026/egov-2003/questionnaire/upload/ HTTP/1.1\r\n"
            b"Host: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=x\r\n"
            b"Content-Length: 1073741824\r\n\r\n--x\r\n"
        )
        answer = b""
        while b"</html>" not in answer and (chunk := sock.recv(65536)):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert "送信データが大きすぎます".encode() in answer


def test_nothing_a_logged_in_user_sees_is_cached(client, sapporo_staff, hokkaido_reviewer):
    client.force_login(sapporo_staff)
    assert "no-store" in client.get("/")["Cache-Control"]
    client.force_login(hokkaido_reviewer)
    export = client.get("/dashboard/export.csv")
    assert export.status_code == 200 and "no-store" in export["Cache-Control"]
