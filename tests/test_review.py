"""The reviewer's queue and review page: what each role sees and may do, and what is stored."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from assessments.models import Answer, Assessment, AssessmentTransition, Body, ReviewComment


@pytest.fixture
def submitted(make_assessment, scored_2003):
    """A complete, submitted assessment of `body_code`, with a varied set of answers."""

    def make(body_code="011002", fiscal_year=2026, submitted_at=None):
        assessment = make_assessment(body_code, fiscal_year, status=Assessment.Status.SUBMITTED)
        if submitted_at:
            Assessment.objects.filter(pk=assessment.pk).update(submitted_at=submitted_at)
        Answer.objects.bulk_create(
            Answer(assessment=assessment, measure=m, level=i % 5) for i, m in enumerate(scored_2003)
        )
        return assessment

    return make


def url(name, assessment):
    return reverse(name, kwargs=assessment.url_kwargs)


def test_queue_lists_the_prefectures_submissions_newest_first(
    client, hokkaido_reviewer, submitted, make_assessment
):
    now = timezone.now()
    older = submitted("012025", submitted_at=now - datetime.timedelta(days=2))  # 函館市
    newer = submitted("011002", submitted_at=now - datetime.timedelta(hours=1))  # 札幌市
    make_assessment("012033", 2026)  # 小樽市, still in progress: not in the queue
    submitted("022012")  # 青森市: another prefecture's
    submitted("010006")  # 北海道 itself: reviewed by the national administrator
    client.force_login(hokkaido_reviewer)
    response = client.get(reverse("review_queue"))
    html = response.content.decode()
    assert [a.pk for a in response.context["page"]] == [newer.pk, older.pk]
    assert html.index("札幌市") < html.index("函館市")
    assert "小樽市" not in html and "青森市" not in html
    assert url("review", newer) in html


def test_national_administrators_queue_holds_prefectures(client, national_admin, submitted):
    prefecture = submitted("010006")
    submitted("011002")
    client.force_login(national_admin)
    response = client.get(reverse("review_queue"))
    assert [a.pk for a in response.context["page"]] == [prefecture.pk]


def test_queue_query_count_does_not_grow(
    client, hokkaido_reviewer, submitted, django_assert_num_queries
):
    client.force_login(hokkaido_reviewer)
    submitted("011002")
    client.get(reverse("review_queue"))
    # session; user; count of the queue; the page of submissions with scores; the open survey
    # rounds (for the sign-off links) (the session is not written)
    with django_assert_num_queries(5):
        client.get(reverse("review_queue"))
    for code in ("012025", "012033", "012041", "012050"):
        submitted(code)
    with django_assert_num_queries(5):
        response = client.get(reverse("review_queue"))
    assert len(response.context["page"]) == 5


def test_review_page_shows_every_answer_with_its_level_description_and_the_log(
    client, hokkaido_reviewer, submitted, scored_2003, sapporo_staff
):
    assessment = submitted()
    first, second = scored_2003[0], scored_2003[1]
    Answer.objects.filter(assessment=assessment, measure=first).update(
        level=3,
        note="条例で定めた",
        evidence_url="https://example.jp/cio.pdf",
        evidence_file="evidence/011002/2026/0f3c.pdf",
        evidence_name="規程.pdf",
        department="情報政策課",
        improvement_plan="CIO補佐官を置く",
    )
    Answer.objects.filter(assessment=assessment, measure=second).update(
        level=None, not_applicable=True, not_applicable_reason="合併予定なし"
    )
    AssessmentTransition.objects.create(
        assessment=assessment, from_status="in_progress", to_status="submitted", by=sapporo_staff
    )
    client.force_login(hokkaido_reviewer)
    response = client.get(url("review", assessment))
    html = response.content.decode()
    description = first.level_descriptions.get(level=3).description_ja
    assert description in html and "3 全庁的に運用" in html
    assert "条例で定めた" in html and "https://example.jp/cio.pdf" in html and "規程.pdf" in html
    # The evidence is a link through the access-checked download, never the storage path.
    evidence = reverse(
        "evidence_download", kwargs={**assessment.url_kwargs, "measure_ref": first.ref}
    )
    assert f'href="{evidence}"' in html and "0f3c" not in html
    assert "情報政策課" in html and "CIO補佐官を置く" in html
    # The evidence is a link through the access-checked download, never the storage path.
    evidence = reverse(
        "evidence_download", kwargs={**assessment.url_kwargs, "measure_ref": first.ref}
    )
    assert f'href="{evidence}"' in html and "0f3c" not in html
    assert "情報政策課" in html and "CIO補佐官を置く" in html
    assert "合併予定なし" in html
    assert html.count('name="body"') == len(scored_2003)  # a comment form per measure
    assert "差し戻す" in html and "承認する" in html
    assert "作成中 → 提出済み" in html and "sapporo-staff" in html


def test_review_page_is_read_only_for_the_body_and_404_for_another_prefecture(
    client, submitted, sapporo_staff, aomori_reviewer, national_admin
):
    assessment = submitted()
    client.force_login(sapporo_staff)
    html = client.get(url("review", assessment)).content.decode()
    assert "閲覧のみ" in html and 'name="body"' not in html and "承認する" not in html
    client.force_login(national_admin)  # reads everything, reviews only prefectures
    html = client.get(url("review", assessment)).content.decode()
    assert "閲覧のみ" in html and "承認する" not in html
    client.force_login(aomori_reviewer)
    for name in ("review", "comparison"):
        assert client.get(url(name, assessment)).status_code == 404
    for name in ("review_comment", "review_return", "review_approve"):
        assert client.post(url(name, assessment), {"comment": "x"}).status_code == 404
    assessment.refresh_from_db()
    assert assessment.status == "submitted"


def test_review_page_query_count_is_fixed(
    client, hokkaido_reviewer, submitted, scored_2003, django_assert_num_queries, sapporo_staff
):
    assessment = submitted()
    client.force_login(hokkaido_reviewer)
    client.get(url("review", assessment))
    # session; user; assessment with body, prefecture, guideline; transitions with users;
    # answers; comments with authors; last year's answers (new: 前年度の回答); scores. The
    # measures, level texts and notes are the kept catalog's (the session is not written)
    with django_assert_num_queries(8):
        client.get(url("review", assessment))
    ReviewComment.objects.bulk_create(
        ReviewComment(assessment=assessment, measure=m, author=hokkaido_reviewer, body="確認")
        for m in scored_2003
    )
    last_year = submitted(fiscal_year=2025)
    with django_assert_num_queries(8):
        response = client.get(url("review", assessment))
    html = response.content.decode()
    assert html.count("確認") >= len(scored_2003)
    assert html.count("（2025年度）") == len(scored_2003)
    # A resubmission with every measure changed: one more query for 前回提出からの変更.
    for status in ("submitted", "returned"):
        AssessmentTransition.objects.create(
            assessment=assessment, from_status="in_progress", to_status=status, by=sapporo_staff
        )
    Assessment.objects.filter(pk=assessment.pk).update(status="returned")
    from assessments import answers

    answers.answers_save(
        assessment=assessment,
        user=sapporo_staff,
        inputs=[answers.AnswerInput(m, {"note": "直した"}, 1) for m in scored_2003],
    )
    Assessment.objects.filter(pk=assessment.pk).update(status="submitted")
    AssessmentTransition.objects.create(
        assessment=assessment, from_status="returned", to_status="submitted", by=sapporo_staff
    )
    with django_assert_num_queries(9):
        response = client.get(url("review", assessment))
    assert response.content.decode().count("前回提出から変更あり") == len(scored_2003)
    assert last_year.pk


def test_reviewer_comments_then_returns_with_a_reason(
    client, hokkaido_reviewer, submitted, scored_2003
):
    assessment = submitted()
    client.force_login(hokkaido_reviewer)
    measure = scored_2003[2]
    response = client.post(
        url("review_comment", assessment),
        {"measure": measure.ref, "body": "計画書を添付してください。", "needs_fix": "on"},
        follow=True,
    )
    html = response.content.decode()
    assert "コメントを追加しました" in html and "計画書を添付してください。" in html
    comment = ReviewComment.objects.get()
    assert (comment.measure, comment.author, comment.needs_fix) == (
        measure,
        hokkaido_reviewer,
        True,
    )

    # Returning without a reason is refused; what was typed elsewhere is kept.
    response = client.post(url("review_return", assessment), {"comment": "  "})
    assert response.status_code == 400
    assert "差戻しの理由を入力してください。" in response.content.decode()
    assessment.refresh_from_db()
    assert assessment.status == "submitted"

    response = client.post(
        url("review_return", assessment), {"comment": "II.1 の根拠を補ってください。"}, follow=True
    )
    assert "差し戻しました" in response.content.decode()
    assessment.refresh_from_db()
    assert assessment.status == "returned"
    transition = assessment.transitions.get()
    assert (transition.to_status, transition.by, transition.comment) == (
        "returned",
        hokkaido_reviewer,
        "II.1 の根拠を補ってください。",
    )
    assert "II.1 の根拠を補ってください。" in response.content.decode()


def test_an_empty_comment_is_refused_and_keeps_the_other_fields(
    client, hokkaido_reviewer, submitted, scored_2003
):
    assessment = submitted()
    client.force_login(hokkaido_reviewer)
    response = client.post(
        url("review_comment", assessment),
        {"measure": scored_2003[0].ref, "body": "", "needs_fix": "on"},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "コメントを入力してください。" in html and 'aria-invalid="true"' in html
    assert "checked" in html
    response = client.post(url("review_comment", assessment), {"measure": "IX.9", "body": "x"})
    assert response.status_code == 400
    assert not ReviewComment.objects.exists()


def test_approve_locks_the_assessment(client, hokkaido_reviewer, submitted, scored_2003):
    assessment = submitted()
    client.force_login(hokkaido_reviewer)
    response = client.post(
        url("review_approve", assessment), {"comment": "確認しました"}, follow=True
    )
    assert "承認しました" in response.content.decode()
    assessment.refresh_from_db()
    assert assessment.status == "approved" and assessment.approved_at is not None
    html = client.get(url("review", assessment)).content.decode()
    assert "承認済みのため" in html and "承認する" not in html and 'name="body"' not in html
    # Nothing changes an approved assessment: neither return, nor approve again, nor comments.
    assert client.post(url("review_return", assessment), {"comment": "やはり"}).status_code == 409
    assert client.post(url("review_approve", assessment)).status_code == 409
    client.post(url("review_comment", assessment), {"measure": scored_2003[0].ref, "body": "x"})
    assessment.refresh_from_db()
    assert assessment.status == "approved"
    assert list(assessment.transitions.values_list("to_status", flat=True)) == ["approved"]
    assert not ReviewComment.objects.exists()


def test_only_the_prefectures_reviewer_may_post(
    client,
    submitted,
    sapporo_staff,
    sapporo_viewer,
    hakodate_staff,
    aomori_reviewer,
    national_admin,
):
    assessment = submitted()
    expected = {
        sapporo_staff: 403,
        sapporo_viewer: 403,
        national_admin: 403,
        hakodate_staff: 404,
        aomori_reviewer: 404,
    }
    for user, status in expected.items():
        client.force_login(user)
        for name in ("review_return", "review_approve", "review_comment"):
            data = {"comment": "理由", "measure": "II.3.(1)", "body": "x"}
            assert client.post(url(name, assessment), data).status_code == status, (user, name)
    client.logout()
    assert client.post(url("review_approve", assessment)).status_code == 302  # to the login page
    assessment.refresh_from_db()
    assert assessment.status == "submitted" and not assessment.transitions.exists()
    assert not ReviewComment.objects.exists()


def test_national_administrator_reviews_a_prefecture(client, national_admin, submitted):
    prefecture = submitted("010006")
    client.force_login(national_admin)
    assert client.post(url("review_approve", prefecture)).status_code == 302
    prefecture.refresh_from_db()
    assert prefecture.status == "approved"
    assert Body.objects.get(code="010006").is_prefecture


@pytest.mark.parametrize("status", ["not_started", "in_progress", "returned", "approved"])
def test_reviewer_posts_are_refused_unless_submitted(client, hokkaido_reviewer, submitted, status):
    assessment = submitted()
    Assessment.objects.filter(pk=assessment.pk).update(
        status=status, approved_at=timezone.now() if status == "approved" else None
    )
    client.force_login(hokkaido_reviewer)
    for name in ("review_return", "review_approve"):
        response = client.post(url(name, assessment), {"comment": "理由"})
        assert response.status_code == 409
        assert "できません" in response.content.decode()
    response = client.post(
        url("review_comment", assessment), {"measure": "II.3.(1)", "body": "x"}, follow=True
    )
    assert "コメントできるのは提出済みの自己評価だけです。" in response.content.decode()
    assessment.refresh_from_db()
    assert assessment.status == status
    assert not assessment.transitions.exists() and not ReviewComment.objects.exists()
