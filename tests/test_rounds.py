"""Survey rounds: opening one gives every body in scope its assessment; progress by prefecture."""

import datetime
from collections import Counter

import pytest
from django.urls import reverse

from assessments.models import Assessment, Body, SurveyRound
from assessments.rounds import Scope, round_progress, survey_round_open


def open_form(scope="all", fiscal_year=2027, due_on="2027-09-30"):
    return {"guideline": "egov-2003", "fiscal_year": fiscal_year, "due_on": due_on, "scope": scope}


def test_opening_a_round_gives_every_body_an_assessment_and_keeps_existing_ones(
    client, national_admin, make_assessment
):
    kept = make_assessment("011002", 2027, status=Assessment.Status.SUBMITTED)
    client.force_login(national_admin)
    response = client.post(reverse("round_list"), open_form(), follow=True)
    html = response.content.decode()
    assert "新規 1787 件、既存 1 件を紐付け" in html
    survey_round = SurveyRound.objects.get(fiscal_year=2027)
    assert (survey_round.opened_by, survey_round.due_on) == (
        national_admin,
        datetime.date(2027, 9, 30),
    )
    linked = Assessment.objects.filter(survey_round=survey_round)
    assert linked.count() == Body.objects.count() == 1788
    assert Counter(linked.values_list("status", flat=True)) == {"not_started": 1787, "submitted": 1}
    kept.refresh_from_db()
    assert (kept.status, kept.survey_round) == ("submitted", survey_round)
    # The progress page it redirects to counts them per prefecture.
    assert response.redirect_chain[-1][0] == reverse(
        "round_progress", kwargs={"guideline_code": "egov-2003", "fiscal_year": 2027}
    )
    assert "北海道" in html and "沖縄県" in html


@pytest.mark.parametrize(
    ("scope", "expected"), [(Scope.PREFECTURES, 47), (Scope.MUNICIPALITIES, 1741)]
)
def test_a_round_can_be_limited_to_prefectures_or_municipalities(
    national_admin, guideline_2003, scope, expected
):
    opened = survey_round_open(
        guideline=guideline_2003,
        fiscal_year=2027,
        due_on=datetime.date(2027, 9, 30),
        scope=scope,
        user=national_admin,
    )
    assert opened.created == expected
    kinds = set(Assessment.objects.filter(fiscal_year=2027).values_list("body__kind", flat=True))
    assert (kinds == {"prefecture"}) == (scope == Scope.PREFECTURES)


def test_bad_input_is_refused_with_a_message_and_nothing_created(
    client, national_admin, guideline_2003
):
    client.force_login(national_admin)
    response = client.post(reverse("round_list"), open_form(due_on="2030-01-01"))
    assert response.status_code == 400
    html = response.content.decode()
    assert "提出期限は対象年度の中の日付にしてください。" in html
    assert 'value="2027"' in html  # what was typed is kept
    SurveyRound.objects.create(
        guideline=guideline_2003, fiscal_year=2027, due_on=datetime.date(2027, 9, 30)
    )
    response = client.post(reverse("round_list"), open_form())
    assert "すでに開始されています" in response.content.decode()
    assert not Assessment.objects.filter(fiscal_year=2027).exists()


def test_only_the_national_administrator_opens_a_round(hokkaido_reviewer, guideline_2003):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        survey_round_open(
            guideline=guideline_2003,
            fiscal_year=2027,
            due_on=datetime.date(2027, 9, 30),
            user=hokkaido_reviewer,
        )
    assert not SurveyRound.objects.exists()


def test_progress_counts_equal_a_recount_of_the_rows(
    client, national_admin, guideline_2003, django_assert_num_queries
):
    survey_round_open(
        guideline=guideline_2003,
        fiscal_year=2027,
        due_on=datetime.date(2027, 9, 30),
        user=national_admin,
    )
    statuses = ["in_progress", "submitted", "approved", "returned"]
    for i, pk in enumerate(
        Assessment.objects.order_by("body__code").values_list("pk", flat=True)[:400]
    ):
        Assessment.objects.filter(pk=pk).update(
            status=statuses[i % 4], approved_at=datetime.datetime.now(datetime.UTC)
        )
    survey_round = SurveyRound.objects.get()
    expected = Counter()
    for prefecture_id, own_id, status in Assessment.objects.values_list(
        "body__prefecture_id", "body_id", "status"
    ):
        expected[(prefecture_id or own_id, status)] += 1
    progress = round_progress(survey_round)
    assert len(progress) == 47
    for row in progress:
        for status, count in row.counts.items():
            assert count == expected[(row.prefecture.pk, status)], (row.prefecture.name, status)
    hokkaido = progress[0]
    assert hokkaido.prefecture.name == "北海道" and hokkaido.total == 180

    client.force_login(national_admin)
    url = reverse("round_progress", kwargs={"guideline_code": "egov-2003", "fiscal_year": 2027})
    client.get(url)
    # session; user; the round; grouped counts (with the late and excused); prefectures; their
    # sign-offs; the due-date extensions (the session is not written)
    with django_assert_num_queries(7):
        response = client.get(url)
    assert '<td class="text-end">1788</td>' in response.content.decode()
