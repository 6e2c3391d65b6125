"""Survey rounds after opening (issue 11): follow-up lists and reminders (national, and each
reviewer for its own prefecture), extensions, excusals and closing (national only), and the
prefecture's sign-off (its reviewers sign; the national administrator reads and decides;
another prefecture's reviewer 404; staff 403).

The entries use a FY2024 round with 札幌市's assessment in progress and 北海道's sign-off.
"""

import datetime

from assessments.models import Assessment, Guideline, PrefectureSignOff, SurveyRound
from tests.access import LOGIN, Entry, everyone

FOLLOWERS = everyone(403) | {
    "prefecture_reviewer": 200,
    "other_prefecture_reviewer": 200,
    "national_admin": 200,
}
NATIONAL_WRITES = everyone(403) | {"national_admin": 302}


def prepare(ctx):
    guideline = Guideline.objects.get(code="egov-2003")
    survey_round = SurveyRound.objects.create(
        guideline=guideline, fiscal_year=2024, due_on=datetime.date(2024, 9, 30)
    )
    ctx.extra["round_2024"] = survey_round
    ctx.extra["round_assessment"] = Assessment.objects.create(
        body=ctx.assessment.body,
        guideline=guideline,
        fiscal_year=2024,
        status=Assessment.Status.IN_PROGRESS,
        survey_round=survey_round,
    )
    ctx.extra["sign_off"] = PrefectureSignOff.objects.create(
        survey_round=survey_round,
        prefecture=ctx.assessment.body.prefecture,
        status=PrefectureSignOff.Status.SIGNED,
    )


def round_kwargs(ctx, **more):
    return {"guideline_code": "egov-2003", "fiscal_year": 2024, **more}


def signed_again(ctx):
    PrefectureSignOff.objects.filter(pk=ctx.extra["sign_off"].pk).update(
        status=PrefectureSignOff.Status.SIGNED
    )
    Assessment.objects.filter(survey_round=ctx.extra["round_2024"]).update(locked_at=None)


def reopen_round(ctx):
    SurveyRound.objects.filter(pk=ctx.extra["round_2024"].pk).update(closed_at=None)
    Assessment.objects.filter(survey_round=ctx.extra["round_2024"]).update(locked_at=None)


def no_excusal(ctx):
    ctx.extra["round_assessment"].__class__.objects.filter(
        pk=ctx.extra["round_assessment"].pk
    ).update(status=Assessment.Status.IN_PROGRESS)
    from assessments.models import Excusal

    Excusal.objects.all().delete()


def hokkaido(ctx):
    return round_kwargs(ctx, prefecture_code="010006")


ENTRIES = {
    "round_follow_up": [
        Entry(FOLLOWERS, kwargs=round_kwargs),
        # Remind now: the chosen body must be in the list the user sees (Aomori's reviewer sees
        # Aomori's bodies: nothing chosen, a message and back).
        Entry(
            everyone(403)
            | {"prefecture_reviewer": 302, "other_prefecture_reviewer": 302, "national_admin": 302},
            kwargs=round_kwargs,
            method="post",
            data=lambda ctx: {"assessment": [ctx.extra["round_assessment"].pk]},
        ),
    ],
    "round_follow_up_export": [
        Entry(FOLLOWERS, kwargs=lambda ctx: round_kwargs(ctx, fmt="csv")),
        Entry(FOLLOWERS, kwargs=lambda ctx: round_kwargs(ctx, fmt="xlsx")),
        Entry(everyone(405), kwargs=lambda ctx: round_kwargs(ctx, fmt="csv"), method="post"),
    ],
    "round_extend": [
        Entry(
            NATIONAL_WRITES,
            kwargs=round_kwargs,
            method="post",
            data=lambda ctx: {
                "extend-body": "011002",
                "extend-due_on": "2024-10-31",
                "extend-reason": "災害のため",
            },
        ),
        Entry(everyone(405), kwargs=round_kwargs),
    ],
    "round_excuse_any": [
        Entry(
            NATIONAL_WRITES,
            kwargs=round_kwargs,
            method="post",
            data=lambda ctx: {"body": "011002", "excuse-reason": "災害のため"},
            before_each=no_excusal,
        ),
        Entry(everyone(405), kwargs=round_kwargs),
    ],
    "round_sign_off": [
        Entry(
            {
                "anonymous": LOGIN,
                "body_staff": 403,
                "other_body_staff": 403,
                "prefecture_reviewer": 200,
                "other_prefecture_reviewer": 404,
                "national_admin": 200,
            },
            kwargs=hokkaido,
        ),
        # Signing off: only Hokkaido's reviewer (refused with 400 here: already signed).
        Entry(
            {
                "anonymous": LOGIN,
                "body_staff": 403,
                "other_body_staff": 403,
                "prefecture_reviewer": 400,
                "other_prefecture_reviewer": 404,
                "national_admin": 403,
            },
            kwargs=hokkaido,
            method="post",
            data=lambda ctx: {"sign_off-reason": "確認しました"},
        ),
    ],
    "round_sign_off_decide": [
        Entry(
            NATIONAL_WRITES,
            kwargs=hokkaido,
            method="post",
            data=lambda ctx: {"decide-action": "accept"},
            before_each=signed_again,
        ),
        Entry(everyone(405), kwargs=hokkaido),
    ],
    "round_close": [
        Entry(
            NATIONAL_WRITES,
            kwargs=round_kwargs,
            method="post",
            data=lambda ctx: {"close-reason": "期限のため締め切ります"},
            before_each=reopen_round,
        ),
        Entry(everyone(405), kwargs=round_kwargs),
    ],
}
