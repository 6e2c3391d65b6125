"""Accounts in a real browser: a reviewer invites a colleague, who sets a password through the
e-mailed link, logs in and sets up a second factor; every page is checked with axe-core.

Personas: the 北海道 reviewer (already has TOTP), the colleague it invites as another 北海道
reviewer, 札幌市 staff (password reset), and the national administrator (undelivered mail).
Screenshots of every page are written to $EGOV_SCREENSHOTS when that is set.
"""

import os
import re
import types
from pathlib import Path

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal import auth as totp_auth
from django.core import mail
from playwright.sync_api import expect

from assessments.models import AccountEvent, OutboundMail, User
from tests.support import BROWSER_CONTEXT, PASSWORD, assert_accessible, log_in, make_user

pytestmark = pytest.mark.browser

FROZEN = 1_800_000_000.0  # a fixed clock, so that a code never straddles two 30 s periods
REVIEWER_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
NEW_PASSWORD = "a-long-and-unusual-passphrase-2026"
INVITEE = "shinsa-jiro@pref.hokkaido.example.jp"


def code_for(secret: str) -> str:
    return totp_auth.format_hotp_value(totp_auth.hotp_value(secret, int(FROZEN) // 30))


def check(page, name: str) -> None:
    """axe-core finds nothing on the page (and a screenshot is kept for a human to look at)."""
    if directory := os.environ.get("EGOV_SCREENSHOTS"):
        Path(directory).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=f"{directory}/{name}.png", full_page=True)
    assert_accessible(page)


@pytest.fixture
def mfa_required(settings, monkeypatch, immediate_tasks):
    """Reviewers must have a second factor; TOTP's clock stands still; mail goes out at once."""
    settings.REQUIRE_MFA = True
    monkeypatch.setattr(totp_auth, "time", types.SimpleNamespace(time=lambda: FROZEN))
    mail.outbox.clear()


def test_invite_accept_and_log_in_with_a_second_factor(page, chromium, live_server, mfa_required):
    reviewer = make_user("hokkaido-reviewer", User.Role.PREFECTURE_REVIEWER, "010006")
    totp_auth.TOTP.activate(reviewer, REVIEWER_SECRET)
    make_user("sapporo-staff", User.Role.BODY_STAFF, "011002")

    # The reviewer logs in: password, then the code from the authenticator app.
    page.goto("/accounts/login/")
    check(page, "01-login")
    page.get_by_label("ユーザー名").fill("hokkaido-reviewer")
    page.get_by_label("パスワード").fill(PASSWORD)
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url("**/accounts/2fa/authenticate/")
    check(page, "02-login-mfa-code")
    page.get_by_label("コード").fill(code_for(REVIEWER_SECRET))
    page.get_by_role("button", name=re.compile("サインイン|ログイン|確認")).click()
    page.wait_for_url(f"{live_server.url}/")

    # Accounts: the list, then the invitation of a colleague.
    page.get_by_role("link", name="アカウント", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("アカウント")
    check(page, "03-account-list")
    page.get_by_role("link", name="招待する").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("アカウントに招待する")
    check(page, "04-invite")
    page.get_by_role("button", name="招待メールを送る").click()  # empty: errors by the fields
    expect(page.locator(".invalid-feedback").first).to_be_visible()
    check(page, "05-invite-errors")
    page.get_by_label("氏名").fill("審査 二郎")
    page.get_by_label("メールアドレス").fill(INVITEE)
    page.get_by_label("団体コード").fill("010006")
    page.get_by_label("役割").select_option(label="都道府県の審査担当")
    page.get_by_role("button", name="招待メールを送る").click()
    expect(page.get_by_text(f"{INVITEE} に招待メールを送ります。")).to_be_visible()
    check(page, "06-account-detail")
    invitee = User.objects.get(email=INVITEE)
    assert (invitee.role, invitee.body.code) == (User.Role.PREFECTURE_REVIEWER, "010006")
    assert not invitee.has_usable_password()

    # The audit trail shows the invitation; bulk import previews a file (and its errors).
    page.get_by_role("link", name="アカウント", exact=True).click()
    page.get_by_role("link", name="操作記録").click()
    expect(page.get_by_role("cell", name="招待", exact=True).first).to_be_visible()
    check(page, "07-audit")
    page.goto("/accounts/users/import/")
    check(page, "08-import")
    rows = "団体コード,氏名,メールアドレス,役割\n"
    good = rows + "011002,札幌 花子,hanako@city.sapporo.example.jp,団体の担当者\n"
    bad = good + "020001,青森 太郎,taro@example.jp,団体の担当者\n"
    page.get_by_label("ファイル（CSV または Excel）").set_input_files(
        files=[{"name": "staff.csv", "mimeType": "text/csv", "buffer": bad.encode("cp932")}]
    )
    page.get_by_role("button", name="内容を確認する").click()
    expect(
        page.get_by_text("3行目・列「団体コード」: 団体「青森県」は管轄外です。")
    ).to_be_visible()
    check(page, "09-import-errors")
    page.get_by_label("ファイル（CSV または Excel）").set_input_files(
        files=[{"name": "staff.csv", "mimeType": "text/csv", "buffer": good.encode("cp932")}]
    )
    page.get_by_role("button", name="内容を確認する").click()
    expect(page.get_by_text("1 人を登録できます。")).to_be_visible()
    preview = page.get_by_role("table", name="登録される内容（確定するまで何も登録されません）")
    expect(preview.get_by_role("row")).to_have_count(2)
    expect(preview.get_by_role("row").nth(1)).to_have_text(
        "2札幌市（011002）札幌 花子hanako@city.sapporo.example.jp団体の担当者"
    )
    check(page, "10-import-preview")
    assert not User.objects.filter(email="hanako@city.sapporo.example.jp").exists()

    # The invitation went out after the commit; its link opens in the invitee's own browser.
    (message,) = [m for m in mail.outbox if m.to == [INVITEE]]
    path = re.search(r"https?://[^/\s]+(/accounts/invitation/[^\s/]+/)", message.body).group(1)
    context = chromium.new_context(**BROWSER_CONTEXT, base_url=live_server.url)
    invitee_page = context.new_page()
    invitee_page.set_default_timeout(15_000)
    invitee_page.goto(path)
    expect(invitee_page.get_by_role("heading", level=1)).to_be_visible()
    check(invitee_page, "11-invitation-accept")
    invitee_page.locator("#id_new_password1").fill("short")
    invitee_page.locator("#id_new_password2").fill("short")
    invitee_page.get_by_role("button", name=re.compile("設定")).click()
    expect(invitee_page.locator(".invalid-feedback").first).to_be_visible()
    check(invitee_page, "12-invitation-accept-errors")
    invitee_page.locator("#id_new_password1").fill(NEW_PASSWORD)
    invitee_page.locator("#id_new_password2").fill(NEW_PASSWORD)
    invitee_page.get_by_role("button", name=re.compile("設定")).click()
    expect(
        invitee_page.get_by_text("パスワードを設定しました。ログインしてください。")
    ).to_be_visible()

    # Logging in, the new reviewer is sent to set up TOTP before anything else.
    invitee_page.get_by_label("ユーザー名").fill(INVITEE)
    invitee_page.get_by_label("パスワード").fill(NEW_PASSWORD)
    invitee_page.get_by_role("button", name="ログイン").click()
    # allauth asks for the password once more before a factor is added.
    invitee_page.wait_for_url(re.compile(r"/accounts/reauthenticate/"))
    expect(invitee_page.get_by_text("審査担当と国の管理者は二要素認証が必要です。")).to_be_visible()
    check(invitee_page, "13-reauthenticate")
    invitee_page.get_by_label("パスワード").fill(NEW_PASSWORD)
    invitee_page.get_by_role("button", name="確認する").click()
    invitee_page.wait_for_url("**/accounts/2fa/totp/activate/")
    check(invitee_page, "14-totp-activate")
    invitee_page.goto("/")  # any other page sends back to the set-up
    invitee_page.wait_for_url("**/accounts/2fa/totp/activate/")
    secret = invitee_page.locator("#authenticator_secret").input_value()
    invitee_page.get_by_label("認証アプリコード").fill(code_for(secret))
    invitee_page.get_by_role("button", name="有効化する").click()
    invitee_page.wait_for_url("**/accounts/2fa/recovery-codes/")
    check(invitee_page, "15-recovery-codes")
    invitee = User.objects.get(email=INVITEE)
    assert Authenticator.objects.filter(user=invitee, type="totp").exists()
    shown = invitee_page.locator("#recovery_codes").input_value()
    recovery = Authenticator.objects.get(user=invitee, type="recovery_codes")
    assert all(code in shown for code in RecoveryCodes(recovery).get_unused_codes())

    # Now the new reviewer reaches home, sees its factors, and may change its own password.
    invitee_page.get_by_role("link", name="ホーム").click()
    invitee_page.wait_for_url(f"{live_server.url}/")
    expect(invitee_page.get_by_role("heading", level=1)).to_be_visible()
    invitee_page.get_by_role("link", name="セキュリティ").click()
    invitee_page.wait_for_url("**/accounts/2fa/")
    check(invitee_page, "16-mfa-index")
    invitee_page.goto("/accounts/password/change/")
    check(invitee_page, "17-password-change")
    # The link was spent: it now says so (and asks for a new one).
    invitee_page.goto(path)
    expect(invitee_page.get_by_role("heading", level=1)).to_have_text("無効なリンク")
    check(invitee_page, "18-invitation-invalid")
    assert {"invited", "activated", "login", "mfa_added"} <= set(
        AccountEvent.objects.filter(user=invitee).values_list("kind", flat=True)
    )
    context.close()


def test_password_reset_pages(page, immediate_tasks):
    make_user("sapporo-staff", User.Role.BODY_STAFF, "011002")
    mail.outbox.clear()
    page.goto("/accounts/password/reset/")
    check(page, "20-password-reset")
    page.get_by_label(re.compile("メールアドレス")).fill("sapporo-staff@example.jp")
    page.get_by_role("button", name=re.compile("再設定|リセット|送信")).click()
    page.wait_for_url("**/accounts/password/reset/done/")
    check(page, "21-password-reset-done")
    assert [m.to for m in mail.outbox] == [["sapporo-staff@example.jp"]]

    # The link in the mail sets a new password.
    link = re.search(r"https?://\S+/accounts/password/reset/key/\S+/", mail.outbox[0].body)
    page.goto(link.group(0))
    page.wait_for_url("**/accounts/password/reset/key/*-set-password/")
    check(page, "22-password-reset-from-key")
    page.locator("#id_password1").fill(NEW_PASSWORD)
    page.locator("#id_password2").fill(NEW_PASSWORD)
    page.get_by_role("button", name="パスワード変更").click()
    page.wait_for_url("**/accounts/password/reset/key/done/")
    check(page, "23-password-reset-from-key-done")
    assert User.objects.get(username="sapporo-staff").check_password(NEW_PASSWORD)
    page.get_by_role("link", name="ログイン画面へ").click()
    log_in(page, "sapporo-staff", NEW_PASSWORD)


def test_the_national_administrator_sees_undelivered_mail(page):
    admin = make_user("national-admin", User.Role.NATIONAL_ADMIN, None)
    OutboundMail.objects.create(
        to="sapporo-staff@example.jp",
        subject="[egov-assess] 提出されました",
        body="…",
        status=OutboundMail.Status.FAILED,
        attempts=5,
        last_error="[Errno 111] Connection refused",
    )
    assert admin.is_national_admin
    log_in(page, "national-admin")
    page.get_by_role("link", name="アカウント", exact=True).click()
    page.get_by_role("link", name="メール送信状況").click()
    expect(page.get_by_role("cell", name="[Errno 111] Connection refused")).to_be_visible()
    check(page, "30-mail-list")


def test_the_login_page_offers_single_sign_on_when_configured(page, settings):
    settings.SOCIALACCOUNT_PROVIDERS = {
        "openid_connect": {
            "APPS": [
                {
                    "provider_id": "egov-oidc",
                    "name": "北海道共通認証",
                    "client_id": "egov-assess",
                    "secret": "secret",
                    "settings": {"server_url": "http://127.0.0.1:9/idp"},
                }
            ]
        }
    }
    page.goto("/accounts/login/")
    button = page.get_by_role("button", name="北海道共通認証 でログイン")
    expect(button).to_be_visible()
    action = button.locator("xpath=ancestor::form").get_attribute("action")
    assert action == "/accounts/oidc/egov-oidc/login/"
    check(page, "40-login-with-sso")
