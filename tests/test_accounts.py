"""Account administration: bulk onboarding, invitations, scope, lockout, audit, passwords.

Personas (tests/conftest.py): the 北海道 reviewer imports and manages the staff of its 179
municipalities; the 青森県 reviewer must never see them; 札幌市 staff manage nobody.
"""

import csv
import datetime
import io
import re

import pytest
from axes.models import AccessAttempt
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from assessments.models import AccountEvent, Body, Invitation, OutboundMail, User
from tests.support import PASSWORD

NEW_PASSWORD = "a-long-and-unusual-passphrase-2026"


def staff_csv(rows, encoding="cp932") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["団体コード", "氏名", "メールアドレス", "役割"])
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def hokkaido_rows():
    """One staff member for each of the 179 municipalities of 北海道."""
    municipalities = Body.objects.filter(prefecture__code="010006").order_by("code")
    return [
        [m.code, f"{m.name} 担当", f"staff-{m.code}@example.jp", "団体の担当者"]
        for m in municipalities
    ]


def upload(client, data: bytes, name="staff.csv"):
    file = io.BytesIO(data)
    file.name = name
    return client.post(reverse("account_import"), {"file": file})


def invitation_link(message) -> str:
    return re.search(r"http://[^\s]+/accounts/invitation/[^\s/]+/", message.body).group(0)


def log_in(client, username, password):
    return client.post(reverse("login"), {"username": username, "password": password})


@pytest.fixture
def onboarded(client, hokkaido_reviewer, immediate_tasks, django_capture_on_commit_callbacks):
    """The 北海道 reviewer has imported 179 staff; their invitations went out after commit."""
    client.force_login(hokkaido_reviewer)
    mail.outbox.clear()
    assert upload(client, staff_csv(hokkaido_rows())).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("account_import"), {"commit": "1"})
    assert response.status_code == 302
    client.logout()
    return User.objects.filter(email__startswith="staff-")


def test_a_bad_row_imports_nothing_and_is_named(client, hokkaido_reviewer, aomori_reviewer):
    rows = hokkaido_rows()
    assert len(rows) == 179
    rows[41][0] = "020001"  # 青森県: outside 北海道 (data row 43 of the sheet)
    rows[99][3] = "市長"  # not a role
    rows[120][2] = rows[7][2]  # the same address twice
    rows[150][0] = "019999"  # no such body
    client.force_login(hokkaido_reviewer)
    response = upload(client, staff_csv(rows))
    html = response.content.decode()
    assert response.status_code == 400
    assert "43行目・列「団体コード」: 団体「青森県」は管轄外です。" in html
    assert "101行目・列「役割」: 役割「市長」は使えません" in html
    assert (
        f"122行目・列「メールアドレス」: メールアドレス「{rows[7][2]}」は重複しています。" in html
    )
    assert "152行目・列「団体コード」: 団体コード「019999」は登録されていません。" in html
    # Nothing is stored, nothing is sent, and committing without a clean preview is refused.
    assert not User.objects.filter(email__startswith="staff-").exists()
    assert not OutboundMail.objects.exists()
    assert client.post(reverse("account_import"), {"commit": "1"}).status_code == 302
    assert not User.objects.filter(email__startswith="staff-").exists()


def test_the_preview_stores_nothing(client, hokkaido_reviewer):
    client.force_login(hokkaido_reviewer)
    response = upload(client, staff_csv(hokkaido_rows(), encoding="utf-8-sig"))
    assert response.status_code == 200
    assert "179 人を登録できます。" in response.content.decode()
    assert not User.objects.filter(email__startswith="staff-").exists()
    assert not OutboundMail.objects.exists()


def test_the_fixed_file_invites_179_staff_after_commit(onboarded):
    assert onboarded.count() == 179
    assert len(mail.outbox) == 179
    assert sorted(m.to[0] for m in mail.outbox) == sorted(onboarded.values_list("email", flat=True))
    sapporo = onboarded.get(body__code="011002")
    assert sapporo.role == User.Role.BODY_STAFF
    assert (sapporo.last_name, sapporo.first_name) == ("札幌市", "担当")
    assert not sapporo.has_usable_password()
    assert OutboundMail.objects.filter(status="sent", purpose="invitation").count() == 179
    assert AccountEvent.objects.filter(kind="invited").count() == 179


def test_an_invitee_sets_a_password_through_the_link_once(client, onboarded):
    message = next(m for m in mail.outbox if m.to == ["staff-011002@example.jp"])
    link = invitation_link(message)
    path = link.split("127.0.0.1:8000", 1)[1]
    assert client.get(path).status_code == 200
    # Django's validators apply.
    response = client.post(path, {"new_password1": "short", "new_password2": "short"})
    assert response.status_code == 400
    response = client.post(path, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 302
    user = User.objects.get(email="staff-011002@example.jp")
    assert user.check_password(NEW_PASSWORD)
    assert Invitation.objects.get(user=user).used_at is not None
    # The link is spent.
    assert client.get(path).status_code == 404
    again = client.post(
        path, {"new_password1": "x" + NEW_PASSWORD, "new_password2": "x" + NEW_PASSWORD}
    )
    assert again.status_code == 404
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    # And the invitee logs in with the password set.
    assert log_in(client, user.username, NEW_PASSWORD).status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)
    assert AccountEvent.objects.filter(user=user, kind="activated").exists()
    assert AccountEvent.objects.filter(user=user, kind="login").exists()


def test_another_prefecture_gets_404_and_staff_403(
    client, onboarded, aomori_reviewer, sapporo_staff
):
    account = onboarded.get(body__code="011002")
    client.force_login(aomori_reviewer)
    assert client.get(reverse("account_detail", kwargs={"pk": account.pk})).status_code == 404
    assert client.post(reverse("account_deactivate", kwargs={"pk": account.pk})).status_code == 404
    listing = client.get(reverse("account_list"), {"q": "staff-"})
    assert listing.status_code == 200 and "staff-011002" not in listing.content.decode()
    client.force_login(sapporo_staff)
    assert client.get(reverse("account_list")).status_code == 403
    assert client.get(reverse("account_detail", kwargs={"pk": account.pk})).status_code == 403
    account.refresh_from_db()
    assert account.is_active


def test_the_reviewer_lists_filters_and_manages_its_accounts(
    client, hokkaido_reviewer, sapporo_staff, hakodate_staff, aomori_reviewer, immediate_tasks
):
    client.force_login(hokkaido_reviewer)
    html = client.get(reverse("account_list"), {"body": "011002"}).content.decode()
    assert "sapporo-staff" in html and "hakodate-staff" not in html
    assert "aomori-reviewer" not in client.get(reverse("account_list")).content.decode()
    # Deactivate: cannot log in, history kept; reactivate.
    url = reverse("account_deactivate", kwargs={"pk": sapporo_staff.pk})
    assert client.post(url).status_code == 302
    sapporo_staff.refresh_from_db()
    assert not sapporo_staff.is_active
    client.logout()
    assert log_in(client, "sapporo-staff", PASSWORD).status_code == 200
    assert "_auth_user_id" not in client.session
    client.force_login(hokkaido_reviewer)
    client.post(reverse("account_reactivate", kwargs={"pk": sapporo_staff.pk}))
    sapporo_staff.refresh_from_db()
    assert sapporo_staff.is_active
    # Change role and body within scope; a body outside it is refused.
    change = reverse("account_change", kwargs={"pk": sapporo_staff.pk})
    client.post(change, {"role": "body_viewer", "body": "012025"})
    sapporo_staff.refresh_from_db()
    assert (sapporo_staff.role, sapporo_staff.body.code) == ("body_viewer", "012025")
    client.post(change, {"role": "body_staff", "body": "020001"})
    sapporo_staff.refresh_from_db()
    assert sapporo_staff.body.code == "012025"
    client.post(change, {"role": "national_admin", "body": ""})
    sapporo_staff.refresh_from_db()
    assert sapporo_staff.role == "body_viewer"
    kinds = list(AccountEvent.objects.filter(user=sapporo_staff).values_list("kind", flat=True))
    assert {"deactivated", "reactivated", "role_changed", "body_changed"} <= set(kinds)


def test_invite_one_person_and_resend(
    client, hokkaido_reviewer, immediate_tasks, django_capture_on_commit_callbacks
):
    client.force_login(hokkaido_reviewer)
    data = {
        "name": "小樽 太郎",
        "email": "Taro@Otaru.example.jp",
        "body": "012033",
        "role": "body_staff",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("account_invite"), data)
    assert response.status_code == 302
    user = User.objects.get(email="taro@otaru.example.jp")
    assert (user.body.code, user.last_name, user.first_name) == ("012033", "小樽", "太郎")
    first = invitation_link(mail.outbox[-1])
    # The same address again is refused.
    assert client.post(reverse("account_invite"), data).status_code == 400
    # Another prefecture's body is refused.
    other = data | {"email": "x@example.jp", "body": "020001"}
    assert client.post(reverse("account_invite"), other).status_code == 400
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("account_resend", kwargs={"pk": user.pk}))
    second = invitation_link(mail.outbox[-1])
    assert first != second
    client.logout()
    assert client.get(first.split("8000", 1)[1]).status_code == 404  # replaced by the new one
    assert client.get(second.split("8000", 1)[1]).status_code == 200


def test_the_password_reset_does_not_reveal_accounts(
    client, sapporo_staff, immediate_tasks, django_capture_on_commit_callbacks
):
    url = reverse("account_reset_password")
    with django_capture_on_commit_callbacks(execute=True):
        known = client.post(url, {"email": "sapporo-staff@example.jp"})
        unknown = client.post(url, {"email": "nobody@example.jp"})
    assert known.status_code == unknown.status_code == 302
    assert known.url == unknown.url
    assert [m.to for m in mail.outbox] == [["sapporo-staff@example.jp"]]
    link = re.search(r"http://\S+/password/reset/key/\S+", mail.outbox[0].body).group(0)
    path = link.split("testserver", 1)[-1] if "testserver" in link else link.split("8000", 1)[-1]
    response = client.get(path, follow=True)
    form_url = response.redirect_chain[-1][0] if response.redirect_chain else path
    response = client.post(form_url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 302
    sapporo_staff.refresh_from_db()
    assert sapporo_staff.check_password(NEW_PASSWORD)


def test_change_own_password(client, sapporo_staff):
    client.force_login(sapporo_staff)
    response = client.post(
        reverse("account_change_password"),
        {"oldpassword": PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    sapporo_staff.refresh_from_db()
    assert sapporo_staff.check_password(NEW_PASSWORD)
    assert AccountEvent.objects.filter(user=sapporo_staff, kind="password_changed").exists()


# --- Lockout ----------------------------------------------------------------------------------


@pytest.fixture
def limit(settings):
    settings.AXES_FAILURE_LIMIT = 3
    return 3


def test_wrong_passwords_lock_the_account_until_a_reviewer_unlocks(
    client, limit, sapporo_staff, hokkaido_reviewer, monkeypatch
):
    for _attempt in range(limit - 1):
        assert log_in(client, "sapporo-staff", "wrong-password").status_code == 200
    locked = log_in(client, "sapporo-staff", "wrong-password")
    assert locked.status_code == 429
    assert "ログインが一時的に制限されています" in locked.content.decode()
    # The right password is now refused, and is not even hashed (no backend checks it).
    from django.contrib.auth.hashers import PBKDF2PasswordHasher

    def no_hashing(*args, **kwargs):
        raise AssertionError("a password was hashed during the lockout")

    with monkeypatch.context() as patch:
        patch.setattr(PBKDF2PasswordHasher, "encode", no_hashing)
        patch.setattr(PBKDF2PasswordHasher, "verify", no_hashing)
        refused = log_in(client, "sapporo-staff", PASSWORD)
    assert refused.status_code == 429
    assert "_auth_user_id" not in client.session
    # The audit shows the failures and the lockout to the reviewer.
    client.force_login(hokkaido_reviewer)
    audit = client.get(reverse("account_audit"), {"q": "sapporo-staff"}).content.decode()
    assert audit.count("ログイン失敗") >= limit
    assert "ロック" in audit and "127.0.0.1" in audit
    detail = client.get(reverse("account_detail", kwargs={"pk": sapporo_staff.pk}))
    assert "ロック中" in detail.content.decode()
    assert (
        client.post(reverse("account_unlock", kwargs={"pk": sapporo_staff.pk})).status_code == 302
    )
    client.logout()
    assert log_in(client, "sapporo-staff", PASSWORD).status_code == 302
    assert client.session["_auth_user_id"] == str(sapporo_staff.pk)
    kinds = set(
        AccountEvent.objects.filter(username="sapporo-staff").values_list("kind", flat=True)
    )
    assert {"login_failed", "locked_out", "unlocked", "login"} <= kinds


def test_the_lockout_ends_after_the_cool_off(client, limit, sapporo_staff, settings):
    for _attempt in range(limit):
        log_in(client, "sapporo-staff", "wrong-password")
    assert log_in(client, "sapporo-staff", PASSWORD).status_code == 429
    # Let the cool-off pass: the attempts are dated back beyond it.
    past = timezone.now() - datetime.timedelta(hours=settings.AXES_COOLOFF_TIME, minutes=1)
    AccessAttempt.objects.update(attempt_time=past)
    assert log_in(client, "sapporo-staff", PASSWORD).status_code == 302


def test_another_prefecture_cannot_unlock_and_the_export_is_formula_safe(
    client, limit, sapporo_staff, aomori_reviewer, national_admin
):
    log_in(client, "=cmd|' /C calc'!A0", "x")  # an attacker's "username"
    for _attempt in range(limit):
        log_in(client, "sapporo-staff", "wrong-password")
    client.force_login(aomori_reviewer)
    assert (
        client.post(reverse("account_unlock", kwargs={"pk": sapporo_staff.pk})).status_code == 404
    )
    assert "sapporo-staff" not in client.get(reverse("account_audit")).content.decode()
    client.force_login(national_admin)
    response = client.get(reverse("account_audit_export"))
    text = response.content.decode("utf-8-sig")
    assert response["Content-Type"].startswith("text/csv")
    assert "'=cmd|' /C calc'!A0" in text and "\n=cmd" not in text and ",=cmd" not in text
    assert "sapporo-staff" in text
