"""A survey round to its deadline (issue 11): due dates in JST, reminders (idempotent per day,
never to the submitted), the follow-up list and its export, the prefecture's sign-off with the
nation's decision, and closing.

Bodies: 札幌市 011002 and 函館市 012025 (北海道), 青森市 022012 (青森県).
"""

import datetime
import io
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from assessments import rounds
from assessments.models import (
    Assessment,
    OutboundMail,
    PrefectureSignOff,
    Reminder,
    SignOffEvent,
    SurveyRound,
)
from tests.support import make_user

DUE = datetime.date(2026, 9, 30)
UTC = datetime.UTC


@pytest.fixture
def survey_round(guideline_2003, national_admin):
    return SurveyRound.objects.create(
        guideline=guideline_2003, fiscal_year=2026, due_on=DUE, opened_by=national_admin
    )


@pytest.fixture
def in_round(make_assessment, survey_round):
    def make(code, status="in_progress"):
        assessment = make_assessment(code, 2026, status=status)
        Assessment.objects.filter(pk=assessment.pk).update(survey_round=survey_round)
        assessment.refresh_from_db()
        return assessment

    return make


def at_utc(*args):
    """Pretend the clock reads this UTC instant (JST is nine hours ahead)."""
    return mock.patch(
        "django.utils.timezone.now", return_value=datetime.datetime(*args, tzinfo=UTC)
    )


# --- Due dates -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("utc", "shown"),
    [
        ((2026, 9, 29, 14, 59), "あと 1 日"),  # 23:59 JST on the 29th
        ((2026, 9, 29, 15, 0), "本日が期限"),  # 00:00 JST on the 30th
        ((2026, 9, 30, 14, 59), "本日が期限"),  # 23:59 JST on the 30th
        ((2026, 9, 30, 15, 0), "期限超過 1 日"),  # midnight JST: late
        ((2026, 12, 1, 15, 30), "期限超過 63 日"),  # 2026-12-02 JST
    ],
)
def test_days_left_and_overdue_follow_the_japanese_day(client, sapporo_staff, in_round, utc, shown):
    assessment = in_round("011002")
    client.force_login(sapporo_staff)
    with at_utc(*utc):
        detail = client.get(assessment.get_absolute_url()).content.decode()
        home = client.get(reverse("home")).content.decode()
    assert "提出期限: 2026年9月30日（令和8年9月30日）" in detail
    assert f"（{shown}）" in detail and f"（{shown}）" in home


def test_across_the_fiscal_year_boundary_and_after_submitting(in_round, survey_round):
    survey_round.due_on = datetime.date(2027, 3, 31)
    survey_round.save()
    assessment = in_round("011002")
    with at_utc(2027, 3, 31, 14, 59):  # 2027-03-31 23:59 JST, still FY2026
        assert rounds.due_state(assessment).remaining == "本日が期限"
    with at_utc(2027, 3, 31, 15, 0):  # 2027-04-01 00:00 JST, FY2027
        state = rounds.due_state(assessment)
        assert (state.overdue, state.days_overdue, state.remaining) == (True, 1, "期限超過 1 日")
    assert "令和9年3月31日" in state.label
    assessment.status = Assessment.Status.SUBMITTED
    with at_utc(2027, 5, 1, 0, 0):
        assert rounds.due_state(assessment).remaining == ""  # submitted: nothing presses


def test_one_body_is_extended_with_a_recorded_reason(
    client, national_admin, in_round, survey_round
):
    sapporo, hakodate = in_round("011002"), in_round("012025")
    client.force_login(national_admin)
    url = reverse("round_extend", kwargs={"guideline_code": "egov-2003", "fiscal_year": 2026})
    client.post(
        url, {"extend-body": "011002", "extend-due_on": "2026-10-31", "extend-reason": "豪雨災害"}
    )
    sapporo.refresh_from_db()
    hakodate.refresh_from_db()
    assert (sapporo.effective_due_on, hakodate.effective_due_on) == (
        datetime.date(2026, 10, 31),
        DUE,
    )
    extension = survey_round.extensions.get()
    assert (extension.body.code, extension.previous_due_on, extension.reason) == (
        "011002",
        DUE,
        "豪雨災害",
    )
    # Without a reason nothing changes.
    client.post(url, {"extend-due_on": "2026-11-30", "extend-reason": ""})
    survey_round.refresh_from_db()
    assert survey_round.due_on == DUE and survey_round.extensions.count() == 1


# --- Reminders -----------------------------------------------------------------------------------


@pytest.fixture
def people(db):
    return {
        "sapporo_a": make_user("sapporo-a", "body_staff", "011002"),
        "sapporo_b": make_user("sapporo-b", "body_staff", "011002"),
        "hakodate": make_user("hakodate-a", "body_staff", "012025"),
        "aomori_city": make_user("aomori-city", "body_staff", "022012"),
        "hokkaido": make_user("hokkaido-rev", "prefecture_reviewer", "010006"),
        "aomori": make_user("aomori-rev", "prefecture_reviewer", "020001"),
    }


def send(day: str, *, dry_run=False) -> str:
    out = io.StringIO()
    args = ["send_reminders", "--today", day] + (["--dry-run"] if dry_run else [])
    call_command(*args, stdout=out)
    return out.getvalue()


def mails_to() -> list[str]:
    return sorted(OutboundMail.objects.values_list("to", flat=True))


def test_send_reminders_follows_the_schedule_once_a_day(
    in_round, people, django_capture_on_commit_callbacks
):
    in_round("011002")  # in progress: reminded
    in_round("012025", status="submitted")  # submitted: never reminded
    in_round("022012", status="not_started")  # 青森市: reminded; 青森県's reviewer gets a digest

    assert "would remind sapporo-a@example.jp" in send("2026-09-16", dry_run=True)
    assert not OutboundMail.objects.exists() and not Reminder.objects.exists()

    with django_capture_on_commit_callbacks(execute=False):
        send("2026-09-16")  # 14 days before
    assert mails_to() == ["aomori-city@example.jp", "sapporo-a@example.jp", "sapporo-b@example.jp"]
    assert "あと 14 日" in OutboundMail.objects.filter(to="sapporo-a@example.jp").get().body
    with django_capture_on_commit_callbacks(execute=False):
        assert send("2026-09-16").endswith("0 sent\n")  # the same day again: nothing
    assert OutboundMail.objects.count() == 3

    with django_capture_on_commit_callbacks(execute=False):
        send("2026-09-20")  # not a reminder day
        send("2026-09-27")  # 3 days before
    assert OutboundMail.objects.count() == 6

    OutboundMail.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=False):
        send("2026-10-01")  # the day after: overdue, and the reviewers' digests
    assert mails_to() == [
        "aomori-city@example.jp",
        "aomori-rev@example.jp",
        "hokkaido-rev@example.jp",
        "sapporo-a@example.jp",
        "sapporo-b@example.jp",
    ]
    digest = OutboundMail.objects.get(to="hokkaido-rev@example.jp")
    assert "札幌市" in digest.body and "函館市" not in digest.body and "青森市" not in digest.body
    assert "期限超過 1 日" in digest.body
    kinds = dict(
        Reminder.objects.filter(sent_on="2026-10-01").values_list("recipient__username", "kind")
    )
    assert kinds["hokkaido-rev"] == "digest" and kinds["sapporo-a"] == "overdue"

    OutboundMail.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=False):
        send("2026-10-02")  # not on the weekly beat
        assert not OutboundMail.objects.exists()
        send("2026-10-08")  # a week later
    assert len(mails_to()) == 5


def test_excused_and_closed_rounds_get_no_reminders(
    in_round, people, national_admin, survey_round, django_capture_on_commit_callbacks
):
    sapporo = in_round("011002")
    in_round("022012")
    rounds.excuse(assessment=sapporo, reason="庁舎被災", user=national_admin)
    with django_capture_on_commit_callbacks(execute=False):
        send("2026-10-01")
    assert "sapporo-a@example.jp" not in mails_to()
    assert "hokkaido-rev@example.jp" not in mails_to()  # no late municipality left
    rounds.round_close(survey_round=survey_round, user=national_admin, reason="締切")
    OutboundMail.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=False):
        send("2026-10-08")
    assert not OutboundMail.objects.exists()


def test_remind_now_is_recorded_and_counts_as_the_days_email(
    client, in_round, people, django_capture_on_commit_callbacks
):
    sapporo = in_round("011002")
    client.force_login(people["hokkaido"])
    url = reverse("round_follow_up", kwargs={"guideline_code": "egov-2003", "fiscal_year": 2026})
    # A fixed day that is not one of the round's scheduled days (the day after the due date and
    # weekly after it would also send the reviewer's digest): 2026-12-02 JST.
    with at_utc(2026, 12, 2, 3, 0), django_capture_on_commit_callbacks(execute=False):
        client.post(url, {"assessment": [sapporo.pk]})
    assert mails_to() == ["sapporo-a@example.jp", "sapporo-b@example.jp"]
    manual = Reminder.objects.filter(kind="manual")
    assert manual.count() == 2 and {r.by for r in manual} == {people["hokkaido"]}
    with django_capture_on_commit_callbacks(execute=False):
        send("2026-12-02")
    assert OutboundMail.objects.count() == 2  # nobody gets a second e-mail that day


# --- Follow-up list ------------------------------------------------------------------------------


def test_follow_up_counts_equal_the_progress_page(client, national_admin, in_round):
    in_round("011002")
    in_round("012025", status="submitted")
    in_round("012033", status="not_started")
    in_round("022012", status="approved")
    client.force_login(national_admin)
    kwargs = {"guideline_code": "egov-2003", "fiscal_year": 2026}
    progress = client.get(reverse("round_progress", kwargs=kwargs)).context["progress"]
    for row in progress[:2]:
        for status, count in row.counts.items():
            listed = client.get(
                reverse("round_follow_up", kwargs=kwargs),
                {"prefecture": row.prefecture.code, "status": status},
            ).context["rows"]
            assert len(listed) == count, (row.prefecture.name, status)
    overdue = client.get(reverse("round_follow_up", kwargs=kwargs), {"overdue": "on"})
    assert len(overdue.context["rows"]) == sum(p.overdue for p in progress) == 2


def test_follow_up_export_is_formula_safe_and_scoped(
    client, national_admin, hokkaido_reviewer, in_round
):
    sapporo = in_round("011002")
    in_round("022012")
    rounds.excuse(assessment=sapporo, reason='=HYPERLINK("http://x")', user=national_admin)
    make_user("sapporo-c", "body_staff", "011002")
    client.force_login(hokkaido_reviewer)
    kwargs = {"guideline_code": "egov-2003", "fiscal_year": 2026, "fmt": "csv"}
    text = client.get(reverse("round_follow_up_export", kwargs=kwargs)).content.decode("utf-8-sig")
    assert "011002" in text and "022012" not in text  # the reviewer's own prefecture only
    assert "'=HYPERLINK" in text and "sapporo-c@example.jp" in text


# --- Sign-off ------------------------------------------------------------------------------------


def test_sign_off_waits_for_every_municipality_then_locks_when_accepted(
    client, in_round, hokkaido_reviewer, national_admin, sapporo_staff, survey_round
):
    sapporo = in_round("011002", status="approved")
    hakodate = in_round("012025", status="submitted")
    kwargs = {"guideline_code": "egov-2003", "fiscal_year": 2026, "prefecture_code": "010006"}
    client.force_login(hokkaido_reviewer)
    refused = client.post(reverse("round_sign_off", kwargs=kwargs), {"sign_off-reason": "確認済み"})
    assert refused.status_code == 400 and "函館市" in refused.content.decode()
    assert not PrefectureSignOff.objects.exists()

    with pytest.raises(ValidationError):
        rounds.excuse(assessment=hakodate, reason="免除", user=national_admin)  # submitted
    Assessment.objects.filter(pk=hakodate.pk).update(status="approved", approved_at=timezone.now())
    done = client.post(reverse("round_sign_off", kwargs=kwargs), {"sign_off-reason": "確認済み"})
    assert done.status_code == 302
    sign_off = PrefectureSignOff.objects.get()
    assert sign_off.status == "signed" and sign_off.events.get().comment == "確認済み"

    client.force_login(national_admin)
    decide = reverse("round_sign_off_decide", kwargs=kwargs)
    client.post(decide, {"decide-action": "accept"})
    sign_off.refresh_from_db()
    sapporo.refresh_from_db()
    assert sign_off.status == "accepted" and sapporo.is_locked
    # Locked: the reviewer cannot reopen, staff cannot edit.
    client.force_login(hokkaido_reviewer)
    reopen = client.post(
        reverse("review_reopen", kwargs=sapporo.url_kwargs), {"comment": "誤りがありました"}
    )
    assert reopen.status_code in (400, 403)
    sapporo.refresh_from_db()
    assert sapporo.status == "approved"

    # Returned: unlocked; only the body named is reopened.
    client.force_login(national_admin)
    client.post(decide, {"decide-action": "return", "decide-reason": "", "reopen": ""})
    sign_off.refresh_from_db()
    assert sign_off.status == "accepted"  # a return needs a reason
    client.post(
        decide, {"decide-action": "return", "decide-reason": "札幌市を再確認", "reopen": "011002"}
    )
    sign_off.refresh_from_db()
    sapporo.refresh_from_db()
    hakodate.refresh_from_db()
    assert sign_off.status == "returned" and not sapporo.is_locked
    assert (sapporo.status, hakodate.status) == ("returned", "approved")
    assert list(SignOffEvent.objects.values_list("to_status", flat=True)) == [
        "signed",
        "accepted",
        "returned",
    ]


def test_closing_needs_every_prefecture_accepted_or_a_reason(
    client, national_admin, in_round, sapporo_staff, survey_round
):
    sapporo = in_round("011002")
    client.force_login(national_admin)
    url = reverse("round_close", kwargs={"guideline_code": "egov-2003", "fiscal_year": 2026})
    client.post(url, {"close-reason": ""})
    survey_round.refresh_from_db()
    assert survey_round.closed_at is None
    client.post(url, {"close-reason": "期限を過ぎたため締め切る"})
    survey_round.refresh_from_db()
    sapporo.refresh_from_db()
    assert survey_round.closed_at is not None and sapporo.is_locked
    client.force_login(sapporo_staff)
    section = client.get(sapporo.get_absolute_url())
    assert "この自己評価は確定しています" in section.content.decode()
    submit = client.post(reverse("assessment_submit", kwargs=sapporo.url_kwargs))
    assert submit.status_code in (400, 403)


def test_dashboards_filter_and_sort_by_overdue(client, hokkaido_reviewer, in_round, survey_round):
    in_round("011002")  # late
    in_round("012025", status="submitted")
    hakodate_like = in_round("012033")  # extended: not late yet
    Assessment.objects.filter(pk=hakodate_like.pk).update(due_on=datetime.date(2026, 12, 31))
    client.force_login(hokkaido_reviewer)
    with at_utc(2026, 12, 1, 15, 30):  # 2026-12-02 JST
        late = client.get(reverse("dashboard"), {"fiscal_year": 2026, "overdue": "on"})
        by_due = client.get(reverse("dashboard"), {"fiscal_year": 2026, "sort": "due"})
    assert [r.assessment.body.code for r in late.context["rows"]] == ["011002"]
    assert "期限超過 63 日" in late.content.decode()
    assert [r.assessment.body.code for r in by_due.context["rows"]] == [
        "011002",
        "012025",
        "012033",
    ]


def test_the_reminder_schedule_is_set_when_the_round_opens(client, national_admin, db):
    client.force_login(national_admin)
    response = client.post(
        reverse("round_list"),
        {
            "guideline": "egov-2003",
            "fiscal_year": "2027",
            "due_on": "2027-09-30",
            "scope": "prefectures",
            "reminder_days": "10, 5,1",
            "overdue_every_days": "3",
        },
    )
    assert response.status_code == 302
    survey_round = SurveyRound.objects.get(fiscal_year=2027)
    assert (survey_round.reminder_days, survey_round.overdue_every_days) == ("10, 5,1", 3)
    refused = client.post(
        reverse("round_list"),
        {"guideline": "egov-2000", "fiscal_year": "2027", "due_on": "2027-09-30",
         "scope": "prefectures", "reminder_days": "0,abc"},
    )  # fmt: skip
    assert refused.status_code == 400
    assert "1〜365 の日数をカンマ区切りで入力してください" in refused.content.decode()
