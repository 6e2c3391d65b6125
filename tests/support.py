"""Helpers shared by the tests: personas' password, user factory, browser helpers."""

from assessments.models import Body, User

PASSWORD = "correct-horse-battery-staple"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

# Every browser context: Japanese, Tokyo time, and reduced motion so that Bootstrap's colour
# transitions are off. Otherwise axe can read a button's colours half-way through its hover
# transition (the pointer stays on a button just clicked) and report a contrast it never has.
BROWSER_CONTEXT = {"locale": "ja-JP", "timezone_id": "Asia/Tokyo", "reduced_motion": "reduce"}


def make_user(username: str, role: str, body_code: str | None) -> User:
    user = User.objects.create_user(
        username=username,
        email=f"{username}@example.jp",
        password=PASSWORD,
        role=role,
        body=Body.objects.get(code=body_code) if body_code else None,
    )
    return user


def assert_accessible(page) -> None:
    """axe-core (WCAG 2.0/2.1 A and AA rules) finds no violation on the current page."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(
        page,
        options={
            "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}
        },
    )
    assert results.violations_count == 0, results.generate_report()


def log_in(page, username: str, password: str = PASSWORD) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("ユーザー名").fill(username)
    page.get_by_label("パスワード").fill(password)
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url("**/")


def run_pending_renders() -> int:
    """Do what the reports worker does: run every queued PDF render (reports.render)."""
    from assessments.models import ReportRender
    from assessments.reports import render

    pending = list(ReportRender.objects.filter(status="queued").values_list("pk", flat=True))
    for pk in pending:
        render.run_report_render(pk)
    return len(pending)


def download_pdf(client, url: str):
    """GET an assessment PDF as a browser would: the progress page, the render, the file."""
    response = client.get(url)
    if response.get("Content-Type") != "application/pdf":
        assert response.status_code == 200, response.status_code
        assert run_pending_renders() >= 1
        response = client.get(url)
    assert response["Content-Type"] == "application/pdf"
    return response
