"""Reopening an approved assessment with a reason, and what the admin may no longer delete.

Personas (tests/conftest.py): the 北海道 reviewer reviews 札幌市; the national administrator
may reopen anyone's; 札幌市's staff may not reopen their own.
"""

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from assessments import workflow
from assessments.models import Assessment, AssessmentTransition


@pytest.fixture
def approved(make_assessment):
    return make_assessment("011002", 2026, status=Assessment.Status.APPROVED)


def test_the_reviewer_reopens_with_a_reason_and_it_is_recorded(client, hokkaido_reviewer, approved):
    client.force_login(hokkaido_reviewer)
    page = client.get(reverse("review", kwargs=approved.url_kwargs)).content.decode()
    assert "差戻しに戻す" in page
    url = reverse("review_reopen", kwargs=approved.url_kwargs)
    refused = client.post(url, {"comment": " "})
    assert (
        refused.status_code == 400 and "再開の理由を入力してください。" in refused.content.decode()
    )
    approved.refresh_from_db()
    assert approved.status == "approved"
    response = client.post(url, {"comment": "II.3.(1) の集計に誤り"}, follow=True)
    assert "承認を取り消して差戻しに戻しました" in response.content.decode()
    approved.refresh_from_db()
    assert approved.status == "returned" and approved.approved_at is None
    record = AssessmentTransition.objects.get(assessment=approved)
    assert (record.from_status, record.to_status, record.by, record.comment) == (
        "approved",
        "returned",
        hokkaido_reviewer,
        "II.3.(1) の集計に誤り",
    )


def test_the_national_administrator_reopens_a_municipality(national_admin, approved):
    workflow.assessment_transition(
        assessment=approved, user=national_admin, action="reopen", comment="再集計"
    )
    assert approved.status == "returned"


@pytest.mark.parametrize("persona", ["sapporo_staff", "aomori_reviewer"])
def test_others_may_not_reopen(request, approved, persona):
    with pytest.raises(PermissionDenied):
        workflow.assessment_transition(
            assessment=approved,
            user=request.getfixturevalue(persona),
            action="reopen",
            comment="x",
        )
    approved.refresh_from_db()
    assert approved.status == "approved"


def test_only_an_approved_assessment_is_reopened(hokkaido_reviewer, make_assessment):
    submitted = make_assessment("011002", 2026, status=Assessment.Status.SUBMITTED)
    with pytest.raises(workflow.TransitionError):
        workflow.assessment_transition(
            assessment=submitted, user=hokkaido_reviewer, action="reopen", comment="x"
        )


def test_the_admin_cannot_delete_an_approved_assessment_or_history(
    client, national_admin, approved, make_assessment
):
    client.force_login(national_admin)
    delete = reverse("admin:assessments_assessment_delete", args=[approved.pk])
    assert client.get(delete).status_code == 403
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert Assessment.objects.filter(pk=approved.pk).exists()
    changelist = client.get(reverse("admin:assessments_assessment_changelist"))
    assert "delete_selected" not in changelist.content.decode()
    draft = make_assessment("012025", 2026)  # never submitted
    response = client.post(
        reverse("admin:assessments_assessment_delete", args=[draft.pk]), {"post": "yes"}
    )
    assert response.status_code == 302 and not Assessment.objects.filter(pk=draft.pk).exists()
