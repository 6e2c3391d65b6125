"""Dashboards: reviewers (their prefecture) and national administrators; body members get 403."""

from tests.access import Entry, assessment_kwargs, everyone, own_body_only

REVIEWERS_ONLY = everyone(403) | {
    "prefecture_reviewer": 200,
    "other_prefecture_reviewer": 200,
    "national_admin": 200,
}
NATIONAL_ONLY = everyone(403) | {"national_admin": 200}

ENTRIES = {
    "dashboard": [Entry(REVIEWERS_ONLY), Entry(everyone(405), method="post")],
    "dashboard_heatmap": [Entry(REVIEWERS_ONLY), Entry(everyone(405), method="post")],
    "dashboard_distribution": [Entry(REVIEWERS_ONLY), Entry(everyone(405), method="post")],
    "dashboard_prefectures": [Entry(NATIONAL_ONLY), Entry(everyone(405), method="post")],
    "dashboard_export": [
        Entry(REVIEWERS_ONLY, kwargs=lambda ctx: {"fmt": "csv"}),
        Entry(REVIEWERS_ONLY, kwargs=lambda ctx: {"fmt": "xlsx"}),
        Entry(everyone(405), kwargs=lambda ctx: {"fmt": "csv"}, method="post"),
    ],
    # A body's comparison with the averages: whoever may read the assessment.
    "comparison": [
        Entry(own_body_only(), kwargs=assessment_kwargs),
        Entry(everyone(405), kwargs=assessment_kwargs, method="post"),
    ],
}
