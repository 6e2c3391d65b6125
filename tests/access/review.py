"""Review chain and survey rounds: who may read the queue and review pages, and who may act.

The review entries act on 札幌市's FY2025 assessment, complete and submitted again before each
request (a reviewer's successful POST returns or approves it).
"""

import datetime

from assessments.models import Answer, Assessment, Guideline, Measure, ReviewComment, SurveyRound
from tests.access import LOGIN, Entry, everyone, own_body_only, read_only


def prepare(ctx):
    guideline = Guideline.objects.get(code="egov-2003")
    assessment = Assessment.objects.create(
        body=ctx.assessment.body,
        guideline=guideline,
        fiscal_year=2025,
        status=Assessment.Status.SUBMITTED,
    )
    Answer.objects.bulk_create(
        Answer(assessment=assessment, measure=m, level=2)
        for m in Measure.objects.filter(guideline=guideline, is_scored=True)
    )
    ctx.extra["review_assessment"] = assessment
    ctx.extra["round"] = SurveyRound.objects.create(
        guideline=guideline, fiscal_year=2025, due_on=datetime.date(2025, 9, 30)
    )


def review_kwargs(ctx):
    return ctx.extra["review_assessment"].url_kwargs


def resubmit(ctx):
    """Put the assessment back to submitted, as if the staff had sent it again."""
    Assessment.objects.filter(pk=ctx.extra["review_assessment"].pk).update(
        status=Assessment.Status.SUBMITTED, approved_at=None
    )
    ReviewComment.objects.all().delete()


# Writing: the prefecture's reviewer acts (302 back to the page); the body's own people and the
# national administrator (who reviews prefectures, not municipalities) get 403; others 404.
REVIEWER_WRITES = {
    "anonymous": LOGIN,
    "body_staff": 403,
    "other_body_staff": 404,
    "prefecture_reviewer": 302,
    "other_prefecture_reviewer": 404,
    "national_admin": 403,
}
REVIEWERS_ONLY = everyone(403) | {
    "prefecture_reviewer": 200,
    "other_prefecture_reviewer": 200,  # their own (empty) queue
    "national_admin": 200,
}
NATIONAL_ONLY = everyone(403) | {"national_admin": 200}


def approve_again(ctx):
    """Approved, as if the reviewer had approved it (a successful reopen returns it)."""
    from django.utils import timezone

    Assessment.objects.filter(pk=ctx.extra["review_assessment"].pk).update(
        status=Assessment.Status.APPROVED, approved_at=timezone.now()
    )


# Reopening an approved assessment: its prefecture's reviewer or any national administrator.
REOPENERS = REVIEWER_WRITES | {"national_admin": 302}


def comment_data(ctx):
    return {"measure": "II.3.(1)", "body": "根拠資料を添付してください。", "needs_fix": "on"}


ENTRIES = {
    "review_queue": read_only(REVIEWERS_ONLY),
    "review": read_only(own_body_only(), review_kwargs),
    "review_comment": [
        Entry(
            REVIEWER_WRITES,
            kwargs=review_kwargs,
            method="post",
            data=comment_data,
            before_each=resubmit,
        ),
        Entry(everyone(405), kwargs=review_kwargs),
    ],
    "review_return": [
        Entry(
            REVIEWER_WRITES,
            kwargs=review_kwargs,
            method="post",
            data=lambda ctx: {"comment": "II.3.(1) を見直してください。"},
            before_each=resubmit,
        ),
        Entry(everyone(405), kwargs=review_kwargs),
    ],
    "review_approve": [
        Entry(REVIEWER_WRITES, kwargs=review_kwargs, method="post", before_each=resubmit),
        Entry(everyone(405), kwargs=review_kwargs),
    ],
    "review_reopen": [
        Entry(
            REOPENERS,
            kwargs=review_kwargs,
            method="post",
            data=lambda ctx: {"comment": "承認後に誤りが見つかりました。"},
            before_each=approve_again,
        ),
        Entry(everyone(405), kwargs=review_kwargs),
    ],
    "round_list": [
        Entry(NATIONAL_ONLY),
        # An invalid form (no due date) re-renders with 400 for the national administrator.
        Entry(
            NATIONAL_ONLY | {"national_admin": 400},
            method="post",
            data=lambda ctx: {"guideline": "egov-2003", "fiscal_year": "2030"},
        ),
    ],
    "round_progress": [
        Entry(
            NATIONAL_ONLY, kwargs=lambda ctx: {"guideline_code": "egov-2003", "fiscal_year": 2025}
        ),
        Entry(
            everyone(405),
            kwargs=lambda ctx: {"guideline_code": "egov-2003", "fiscal_year": 2025},
            method="post",
        ),
    ],
}
