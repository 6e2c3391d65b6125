"""Published statistics (issue 12, parts 3 and 4): the public pages and files (everyone, no login:
aggregates only), publishing and reopening for correction (national administrators), and the
per-measure export of a round (national administrators; every prefecture reviewer gets its own
prefecture's bodies; staff 403).

The entries use a closed FY2023 round with release 第1号 version 1 (built directly: the real
files are tested in tests/test_statistics.py).
"""

import datetime

from django.utils import timezone

from assessments.models import Guideline, ReleaseVersion, StatisticsRelease, SurveyRound
from assessments.selectors.statistics import tabulate
from tests.access import LOGIN, Entry, everyone

PUBLIC = everyone(200, anonymous=200)
NATIONAL = everyone(403) | {"national_admin": 200}
FOLLOWERS = everyone(403) | {
    "prefecture_reviewer": 200,
    "other_prefecture_reviewer": 200,
    "national_admin": 200,
}


def prepare(ctx):
    guideline = Guideline.objects.get(code="egov-2003")
    survey_round = SurveyRound.objects.create(
        guideline=guideline,
        fiscal_year=2023,
        due_on=datetime.date(2023, 9, 30),
        closed_at=timezone.now(),
    )
    ctx.extra["round_2023"] = survey_round
    release = StatisticsRelease.objects.create(
        number=1, survey_round=survey_round, base_date=datetime.date(2023, 4, 1)
    )
    version = ReleaseVersion(
        release=release,
        number=1,
        published_at=timezone.now(),
        data=tabulate(guideline, 2023).as_data(),
    )
    for kind in ("csv", "xlsx", "pdf"):
        version.set_file(kind, f"{kind} of version 1".encode())
    version.save()


def version_kwargs(ctx, **more):
    return {"number": 1, "version": 1, **more}


def round_kwargs(ctx, **more):
    return {"guideline_code": "egov-2003", "fiscal_year": 2023, **more}


ENTRIES = {
    "statistics_index": [
        Entry(PUBLIC),
        Entry(everyone(405, anonymous=405), method="post"),
    ],
    "statistics_release": [
        Entry(PUBLIC, kwargs=lambda ctx: {"number": 1}),
        Entry(everyone(404, anonymous=404), kwargs=lambda ctx: {"number": 2}),
        Entry(everyone(405, anonymous=405), kwargs=lambda ctx: {"number": 1}, method="post"),
    ],
    "statistics_version": [
        Entry(PUBLIC, kwargs=version_kwargs),
        Entry(everyone(404, anonymous=404), kwargs=lambda ctx: {"number": 1, "version": 2}),
        Entry(everyone(405, anonymous=405), kwargs=version_kwargs, method="post"),
    ],
    "statistics_prefectures": [
        Entry(PUBLIC, kwargs=version_kwargs),
        Entry(everyone(405, anonymous=405), kwargs=version_kwargs, method="post"),
    ],
    "statistics_file": [
        Entry(PUBLIC, kwargs=lambda ctx: version_kwargs(ctx, kind="csv")),
        Entry(PUBLIC, kwargs=lambda ctx: version_kwargs(ctx, kind="xlsx")),
        Entry(PUBLIC, kwargs=lambda ctx: version_kwargs(ctx, kind="pdf")),
        Entry(everyone(404, anonymous=404), kwargs=lambda ctx: version_kwargs(ctx, kind="html")),
        Entry(
            everyone(405, anonymous=405),
            kwargs=lambda ctx: version_kwargs(ctx, kind="csv"),
            method="post",
        ),
    ],
    "statistics_publish": [
        Entry(NATIONAL),
        # A dry run only: the preview of publishing the FY2023 round (nothing is created).
        Entry(
            NATIONAL,
            method="post",
            data=lambda ctx: {"survey_round": ctx.extra["round_2023"].pk, "preview": "1"},
        ),
        Entry(everyone(405), method="put"),
    ],
    "statistics_correction_reopen": [
        # No assessment of 札幌市 in the FY2023 round: a message and back to the publish page.
        Entry(
            everyone(403) | {"national_admin": 302},
            method="post",
            data=lambda ctx: {
                "reopen-survey_round": ctx.extra["round_2023"].pk,
                "reopen-body": "011002",
                "reopen-reason": "報告の誤り",
            },
        ),
        Entry(everyone(405)),
    ],
    "round_measure_export": [
        Entry(FOLLOWERS, kwargs=lambda ctx: round_kwargs(ctx, fmt="csv")),
        Entry(FOLLOWERS, kwargs=lambda ctx: round_kwargs(ctx, fmt="xlsx")),
        Entry(
            {role: 404 for role in FOLLOWERS}
            | {"anonymous": LOGIN, "body_staff": 403, "other_body_staff": 403},
            kwargs=lambda ctx: round_kwargs(ctx, fmt="html"),
        ),
        Entry(everyone(405), kwargs=lambda ctx: round_kwargs(ctx, fmt="csv"), method="post"),
    ],
}
