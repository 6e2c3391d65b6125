"""Dashboards: reviewers (their prefecture) and national administrators; body members get 403."""

from tests.access import Entry, assessment_kwargs, everyone, own_body_only, read_only

REVIEWERS_ONLY = everyone(403) | {
    "prefecture_reviewer": 200,
    "other_prefecture_reviewer": 200,
    "national_admin": 200,
}
ENTRIES = {
    "dashboard": read_only(REVIEWERS_ONLY),
    "dashboard_heatmap": read_only(REVIEWERS_ONLY),
    "dashboard_distribution": read_only(REVIEWERS_ONLY),
    # National: every prefecture; a reviewer: its own prefecture beside the national average.
    "dashboard_prefectures": read_only(REVIEWERS_ONLY),
    "dashboard_export": [
        Entry(REVIEWERS_ONLY, kwargs=lambda ctx: {"fmt": "csv"}),
        Entry(REVIEWERS_ONLY, kwargs=lambda ctx: {"fmt": "xlsx"}),
        Entry(everyone(405), kwargs=lambda ctx: {"fmt": "csv"}, method="post"),
    ],
    # A body's comparison with the averages: whoever may read the assessment.
    "comparison": read_only(own_body_only(), assessment_kwargs),
}
