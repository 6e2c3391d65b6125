"""The account lists (accounts, audit trail and its CSV, undelivered mail): their query counts are
pinned, and stay the same when the rows grow from 5 to 50.

Personas (tests/conftest.py): the 北海道 reviewer manages the accounts of its municipalities and
reads their events; the national administrator also reads the mail that could not be sent.
"""

import csv
import io
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from assessments.models import AccountEvent, Body, OutboundMail, User
from assessments.views.accounts import PAGE_SIZE

SIZES = [5, 50]


def municipalities(count: int) -> list[Body]:
    bodies = list(Body.objects.filter(prefecture__code="010006").order_by("code")[:count])
    assert len(bodies) == count
    return bodies


def make_accounts(count: int) -> list[User]:
    """One staff account per municipality of 北海道, each with a different body (and prefecture
    to print), half of them never activated (invited), one deactivated."""
    accounts = []
    for i, body in enumerate(municipalities(count)):
        user = User.objects.create_user(
            username=f"staff-{body.code}",
            email=f"staff-{body.code}@example.jp",
            password="a-long-and-unusual-passphrase-2026" if i % 2 else None,
            role=User.Role.BODY_STAFF,
            body=body,
            last_name=body.name,
            first_name="担当",
            last_login=timezone.now() if i % 2 else None,
            is_active=i != 3,
        )
        accounts.append(user)
    return accounts


def make_events(count: int, actor: User) -> None:
    """Events of `count` different accounts (each with its own body), by another actor."""
    kinds = [AccountEvent.Kind.INVITED, AccountEvent.Kind.LOGIN, AccountEvent.Kind.LOGIN_FAILED]
    for i, account in enumerate(make_accounts(count)):
        AccountEvent.objects.create(
            kind=kinds[i % 3],
            user=account,
            actor=actor if i % 3 == 0 else account,
            username=account.username,
            body=account.body,
            ip_address="192.0.2.1",
            detail=f'=HYPERLINK("http://example.jp/{i}")' if i == 0 else "",
        )


def make_mails(count: int) -> None:
    for i in range(count):
        OutboundMail.objects.create(
            to=f"someone-{i}@example.jp",
            subject=f"[egov-assess] 通知 {i}",
            body="…",
            status=OutboundMail.Status.FAILED if i % 2 else OutboundMail.Status.QUEUED,
            attempts=i % 5,
            last_error="Connection refused" if i % 2 else "",
        )


def pin(client, url, expected, django_assert_num_queries):
    client.get(url)  # the first request after login may touch the session differently
    with django_assert_num_queries(expected):
        response = client.get(url)
    assert response.status_code == 200
    return response


@pytest.mark.parametrize("size", SIZES)
def test_account_list(client, hokkaido_reviewer, django_assert_num_queries, size):
    make_accounts(size)
    client.force_login(hokkaido_reviewer)
    # session; user; count; the page of accounts (with body and prefecture); their lockouts;
    # (the session is not written)
    response = pin(client, reverse("account_list"), 5, django_assert_num_queries)
    html = response.content.decode()
    # the reviewer's own account too; a page holds 50
    assert len(re.findall(r'href="/accounts/users/\d+/"', html)) == min(size + 1, PAGE_SIZE)
    assert "北海道札幌市（011002）" in html


@pytest.mark.parametrize("size", SIZES)
def test_account_audit(client, hokkaido_reviewer, django_assert_num_queries, size):
    make_events(size, actor=hokkaido_reviewer)
    client.force_login(hokkaido_reviewer)
    # session; user; count; the page of events (with actor and body) (the session is not written)
    response = pin(client, reverse("account_audit"), 4, django_assert_num_queries)
    # and the reviewer's own login; a page holds 50
    assert response.content.decode().count("<tr><td>") == min(size + 1, PAGE_SIZE)


@pytest.mark.parametrize("size", SIZES)
def test_account_audit_export(client, hokkaido_reviewer, django_assert_num_queries, size):
    make_events(size, actor=hokkaido_reviewer)
    client.force_login(hokkaido_reviewer)
    # session; user; the events (with actor and body) (the session is not written)
    response = pin(client, reverse("account_audit_export"), 3, django_assert_num_queries)
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(rows) == 1 + size + 1  # header, the events, and the reviewer's login: every page
    details = [row[6] for row in rows[1:] if row[6]]
    assert details == ['\'=HYPERLINK("http://example.jp/0")']  # formula-safe


@pytest.mark.parametrize("size", SIZES)
def test_mail_list(client, national_admin, django_assert_num_queries, size):
    make_mails(size)
    OutboundMail.objects.create(to="sent@example.jp", subject="s", body="b", status="sent")
    client.force_login(national_admin)
    # session; user; count; the page of unsent mail (the session is not written)
    response = pin(client, reverse("mail_list"), 4, django_assert_num_queries)
    html = response.content.decode()
    assert html.count("someone-") == size and "sent@example.jp" not in html
