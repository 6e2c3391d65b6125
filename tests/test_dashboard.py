"""Dashboards: scope, every number against a recomputation in plain Python, exports, queries.

The recomputations below read the raw rows (answers, weights, sections) and add them up in
Python, independently of scoring.py, comparisons.py and dashboards.py.
"""

import csv
import io
import random
from collections import Counter, defaultdict
from decimal import ROUND_HALF_UP, Decimal

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from assessments import scoring
from assessments.models import Answer, Assessment, Body, Measure

COUNTED = ("submitted", "approved")
HOKKAIDO_CODES = ["011002", "012025", "012033", "012041", "012050", "012068", "012076"]
AOMORI_CODES = ["022012", "022021"]


@pytest.fixture
def populate(guideline_2003, scored_2003):
    """Assessments with drawn answers for the given bodies and years (statuses vary)."""

    def make(codes, years=(2025, 2026)):
        bodies = Body.objects.filter(code__in=codes)
        assessments, draws = [], []
        for body in bodies:
            for year in years:
                rng = random.Random(f"{body.code}-{year}")
                status = rng.choice(["submitted", "approved", "approved", "in_progress"])
                assessments.append(
                    Assessment(
                        body=body,
                        guideline=guideline_2003,
                        fiscal_year=year,
                        status=status,
                        submitted_at="2026-09-01T10:00:00+09:00" if status in COUNTED else None,
                        approved_at="2026-10-01T10:00:00+09:00" if status == "approved" else None,
                    )
                )
                draws.append(rng)
        Assessment.objects.bulk_create(assessments)
        answers = []
        for assessment, rng in zip(assessments, draws, strict=True):
            for measure in scored_2003:
                r = rng.random()
                if assessment.status == "in_progress" and r < 0.3:
                    continue  # unanswered yet
                if r > 0.9:
                    answers.append(
                        Answer(
                            assessment=assessment,
                            measure=measure,
                            not_applicable=True,
                            not_applicable_reason="対象外",
                        )
                    )
                else:
                    answers.append(
                        Answer(assessment=assessment, measure=measure, level=rng.randint(0, 4))
                    )
        Answer.objects.bulk_create(answers)
        return assessments

    return make


def half_up(value: float) -> Decimal:
    """四捨五入 to one decimal, computed here independently of assessments.scoring."""
    return Decimal(repr(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def recompute(guideline):
    """{assessment id: (overall unrounded or None, {section id: unrounded or None})}."""
    measures = {m.pk: m for m in Measure.objects.filter(guideline=guideline, is_scored=True)}
    earned, possible = defaultdict(int), defaultdict(int)
    for assessment_id, measure_id, level in Answer.objects.values_list(
        "assessment_id", "measure_id", "level"
    ):
        if level is None or measure_id not in measures:
            continue
        m = measures[measure_id]
        for key in ((assessment_id, None), (assessment_id, m.section_id)):
            earned[key] += m.weight * level
            possible[key] += m.weight * 4
    result = {}
    for a in Assessment.objects.filter(guideline=guideline):
        overall = (
            100 * earned[(a.pk, None)] / possible[(a.pk, None)] if possible[(a.pk, None)] else None
        )
        sections = {
            section: 100 * earned[(a.pk, section)] / possible[(a.pk, section)]
            for (pk, section) in list(possible)
            if pk == a.pk and section is not None
        }
        result[a.pk] = (overall, sections)
    return result


def mean(values):
    values = [v for v in values if v is not None]
    return sum(values) / len(values) if values else None


def test_body_members_have_no_dashboard(client, sapporo_staff, sapporo_viewer):
    for user in (sapporo_staff, sapporo_viewer):
        client.force_login(user)
        for name in ("dashboard", "dashboard_heatmap", "dashboard_distribution"):
            assert client.get(reverse(name)).status_code == 403
        assert client.get(reverse("dashboard_export", kwargs={"fmt": "csv"})).status_code == 403


def test_reviewer_sees_their_prefecture_with_scores_equal_to_a_recomputation(
    client, hokkaido_reviewer, populate, guideline_2003
):
    populate(HOKKAIDO_CODES + AOMORI_CODES + ["010006"])
    client.force_login(hokkaido_reviewer)
    response = client.get(reverse("dashboard"), {"fiscal_year": 2026, "guideline": "egov-2003"})
    rows = response.context["rows"]
    sections = response.context["sections"]
    assert {r.assessment.body.code for r in rows} == set(HOKKAIDO_CODES) | {"010006"}
    expected = recompute(guideline_2003)
    for row in rows:
        overall, by_section = expected[row.assessment.pk]
        assert row.score.rounded == (None if overall is None else half_up(overall))
        assert [scoring.rounded(v) for v in row.sections] == [
            None if s.pk not in by_section else half_up(by_section[s.pk]) for s in sections
        ]
    html = response.content.decode()
    assert "青森市" not in html
    sapporo = next(r for r in rows if r.assessment.body.code == "011002")
    assert sapporo.score.text in html
    statuses = Counter(r.assessment.status for r in rows)
    for status, count in statuses.items():
        label = Assessment.Status(status).label
        assert f"{label}: <strong>{count}</strong>" in html


def test_aomori_reviewer_sees_nothing_of_hokkaido(client, aomori_reviewer, populate):
    populate(HOKKAIDO_CODES + AOMORI_CODES)
    client.force_login(aomori_reviewer)
    for name in ("dashboard", "dashboard_heatmap", "dashboard_distribution"):
        html = client.get(reverse(name), {"fiscal_year": 2026}).content.decode()
        assert "札幌市" not in html and "函館市" not in html, name
    # A 北海道 filter in the address is ignored: the scope stays 青森県.
    response = client.get(reverse("dashboard"), {"fiscal_year": 2026, "prefecture": "010006"})
    assert {r.assessment.body.code for r in response.context["rows"]} == set(AOMORI_CODES)
    export = client.get(reverse("dashboard_export", kwargs={"fmt": "csv"}), {"fiscal_year": 2026})
    assert "札幌市" not in export.content.decode("utf-8-sig")


def test_filters_sorting_and_pages_for_the_national_view(client, national_admin, populate):
    codes = list(Body.objects.order_by("code").values_list("code", flat=True)[:120])
    populate(codes, years=(2026,))
    client.force_login(national_admin)
    response = client.get(reverse("dashboard"), {"fiscal_year": 2026, "sort": "-score"})
    page = response.context["page"]
    assert page.paginator.count == 120 and len(page.object_list) == 50
    scores = [r.score for r in response.context["rows"]]
    # Results by score, highest first (no score last); drafts after every result, unranked.
    keys = [(s.provisional, s.value is None, -(s.value or 0)) for s in scores]
    assert keys[0][0] is False and keys == sorted(keys)
    second = client.get(reverse("dashboard"), {"fiscal_year": 2026, "sort": "code", "page": 3})
    assert len(second.context["rows"]) == 20
    towns = client.get(
        reverse("dashboard"), {"fiscal_year": 2026, "kind": "town", "status": "approved"}
    )
    rows = towns.context["rows"]
    assert rows and all(
        r.assessment.body.kind == "town" and r.assessment.status == "approved" for r in rows
    )
    expected = Assessment.objects.filter(
        fiscal_year=2026, body__kind="town", status="approved"
    ).count()
    assert towns.context["page"].paginator.count == expected
    aomori = client.get(reverse("dashboard"), {"fiscal_year": 2026, "prefecture": "020001"})
    assert all(r.assessment.body.code.startswith("02") for r in aomori.context["rows"])
    by_name = client.get(reverse("dashboard"), {"fiscal_year": 2026, "sort": "name"})
    kana = [r.assessment.body.name_kana for r in by_name.context["rows"]]
    assert kana == sorted(kana)


def test_export_has_the_same_rows_and_neutralises_formulas(
    client, hokkaido_reviewer, populate, guideline_2003
):
    populate(HOKKAIDO_CODES)
    Body.objects.filter(code="012025").update(name='=HYPERLINK("http://evil.example","函館")')
    client.force_login(hokkaido_reviewer)
    params = {"fiscal_year": 2025, "guideline": "egov-2003"}
    response = client.get(reverse("dashboard_export", kwargs={"fmt": "csv"}), params)
    assert response["Content-Type"].startswith("text/csv")
    table = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    header, body = table[0], table[1:]
    assert header[:2] == ["団体コード", "団体名"]
    expected = recompute(guideline_2003)
    by_code = {
        a.body.code: a for a in Assessment.objects.filter(fiscal_year=2025).select_related("body")
    }
    assert [r[0] for r in body] == sorted(HOKKAIDO_CODES)
    for record in body:
        overall, _sections = expected[by_code[record[0]].pk]
        assert record[10] == ("" if overall is None else str(half_up(overall)))
    hakodate = next(r for r in body if r[0] == "012025")
    assert hakodate[1].startswith("'=HYPERLINK")

    response = client.get(reverse("dashboard_export", kwargs={"fmt": "xlsx"}), params)
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    cells = [cell for row in sheet.iter_rows() for cell in row]
    assert all(cell.data_type != "f" for cell in cells)
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert [str(v[0]) for v in values[1:]] == sorted(HOKKAIDO_CODES)
    assert any(str(v[1]).startswith("'=HYPERLINK") for v in values)


def test_distribution_counts_and_shares_equal_a_recount(
    client, national_admin, populate, scored_2003
):
    populate(HOKKAIDO_CODES + AOMORI_CODES + ["010006", "020001"], years=(2026,))
    client.force_login(national_admin)
    response = client.get(reverse("dashboard_distribution"), {"fiscal_year": 2026})
    expected = Counter()
    totals = Counter()
    for measure_id, kind, level, na in Answer.objects.filter(
        assessment__status__in=COUNTED, assessment__fiscal_year=2026
    ).values_list("measure_id", "assessment__body__kind", "level", "not_applicable"):
        column = "na" if na else level
        expected[(measure_id, kind, column)] += 1
        totals[(measure_id, kind)] += 1
    kinds = [k for k, _label in response.context["kinds"]]
    assert set(kinds) == {kind for (_m, kind) in totals}
    html = response.content.decode()
    for d in response.context["measures"]:
        for kind, cells in d.by_kind.items():
            for column, cell in cells.items():
                assert cell.count == expected[(d.measure.pk, kind, column)]
                total = totals[(d.measure.pk, kind)]
                assert cell.total == total
                share = half_up(100 * cell.count / total) if total else Decimal("0.0")
                assert cell.percent == share
    first = response.context["measures"][0]
    cell = first.by_kind["city"][2]
    assert f"{cell.count}団体（{cell.percent}%）" in html


def test_prefecture_and_kind_averages_and_change_equal_a_recomputation(
    client, national_admin, populate, guideline_2003
):
    populate(HOKKAIDO_CODES + AOMORI_CODES + ["010006", "020001"])
    expected = recompute(guideline_2003)
    per_prefecture, per_kind = defaultdict(list), defaultdict(list)
    for a in Assessment.objects.filter(status__in=COUNTED).select_related("body"):
        prefecture = a.body.prefecture_id or a.body_id
        per_prefecture[(prefecture, a.fiscal_year)].append(expected[a.pk][0])
        per_kind[(a.body.kind, a.fiscal_year)].append(expected[a.pk][0])
    client.force_login(national_admin)
    response = client.get(reverse("dashboard_prefectures"), {"fiscal_year": 2026})
    rows = response.context["prefectures"]
    assert len(rows) == 47
    for row in rows:
        now = mean(per_prefecture[(row.key.pk, 2026)])
        before = mean(per_prefecture[(row.key.pk, 2025)])
        assert (
            row.current == pytest.approx(now, abs=1e-9) if now is not None else row.current is None
        )
        assert (
            row.previous == pytest.approx(before, abs=1e-9)
            if before is not None
            else row.previous is None
        )
        assert row.current_bodies == len(
            [v for v in per_prefecture[(row.key.pk, 2026)] if v is not None]
        )
        if now is not None and before is not None:
            assert row.change == half_up(row.current) - half_up(row.previous)
    hokkaido = rows[0]
    assert hokkaido.current is not None and hokkaido.previous is not None
    for row in response.context["kinds"]:
        now = mean(per_kind[(row.key, 2026)])
        assert (
            row.current == pytest.approx(now, abs=1e-9) if now is not None else row.current is None
        )
    html = response.content.decode()
    assert str(half_up(hokkaido.current)) in html


def test_reviewer_compares_own_prefecture_with_the_nation_and_last_year(
    client, hokkaido_reviewer, populate, guideline_2003
):
    populate(HOKKAIDO_CODES + AOMORI_CODES + ["010006"])
    expected = recompute(guideline_2003)
    counted = list(Assessment.objects.filter(status__in=COUNTED).select_related("body"))
    hokkaido = Body.objects.get(code="010006")
    client.force_login(hokkaido_reviewer)
    response = client.get(reverse("dashboard_prefectures"), {"fiscal_year": 2026})
    assert response.status_code == 200
    own, nation = response.context["prefectures"]
    assert own.key == hokkaido and str(nation.label) == "全国"
    for row, members in (
        (own, [a for a in counted if (a.body.prefecture_id or a.body_id) == hokkaido.pk]),
        (nation, counted),
    ):
        for year, value in ((2026, row.current), (2025, row.previous)):
            now = mean(expected[a.pk][0] for a in members if a.fiscal_year == year)
            assert value == pytest.approx(now, abs=1e-9)
    # Kinds are Hokkaido's only (no 中核市 average of Aomori's bodies).
    kinds = {row.key: row for row in response.context["kinds"]}
    in_hokkaido = {a.body.kind for a in counted if a.body.code in HOKKAIDO_CODES + ["010006"]}
    assert set(kinds) == in_hokkaido
    # Each of Hokkaido's bodies, this year against last year; Aomori's are not listed.
    changes = response.context["changes"]
    listed = [row.body.code for row in changes.rows]
    assert set(HOKKAIDO_CODES) <= set(listed) and not set(AOMORI_CODES) & set(listed)
    for row in changes.rows:
        by_year = {
            a.fiscal_year: a for a in counted if a.body_id == row.body.pk
        }  # results only: drafts are not compared
        assert (row.current is None) == (2026 not in by_year)
        assert (row.previous is None) == (2025 not in by_year)
        if row.current is not None and row.previous is not None:
            now, before = expected[by_year[2026].pk][0], expected[by_year[2025].pk][0]
            if now is not None and before is not None:
                assert row.change == half_up(now) - half_up(before)
    assert changes.improved + changes.declined + changes.unchanged + changes.not_comparable == len(
        changes.rows
    )
    html = response.content.decode()
    assert "北海道の区分・年度の比較" in html and 'id="body-changes"' in html
    assert "青森" not in html


def test_reviewer_pages_link_the_prefecture_summary_and_batch(client, hokkaido_reviewer):
    client.force_login(hokkaido_reviewer)
    kwargs = {"prefecture_code": "010006", "fiscal_year": 2026, "guideline_code": "egov-2003"}
    for page in (reverse("dashboard") + "?fiscal_year=2026", reverse("review_queue")):
        html = client.get(page).content.decode()
        assert reverse("prefecture_summary_pdf", kwargs=kwargs) in html, page
        assert reverse("report_batches", kwargs=kwargs) in html, page


def test_comparison_equals_a_recomputation(client, hokkaido_reviewer, populate, guideline_2003):
    populate(HOKKAIDO_CODES + AOMORI_CODES + ["031003"])  # 盛岡市: another 中核市
    sapporo = Assessment.objects.get(body__code="011002", fiscal_year=2026)
    expected = recompute(guideline_2003)
    counted = Assessment.objects.filter(status__in=COUNTED, fiscal_year=2026).select_related("body")
    pref = [a for a in counted if a.body.prefecture_id == sapporo.body.prefecture_id]
    kind = [a for a in counted if a.body.kind == sapporo.body.kind]
    client.force_login(hokkaido_reviewer)
    response = client.get(reverse("comparison", kwargs=sapporo.url_kwargs))
    series = dict(response.context["series"])
    sections = response.context["sections"]
    own = expected[sapporo.pk]
    assert scoring.rounded(series["札幌市"][0]) == (None if own[0] is None else half_up(own[0]))
    for scope, members in (
        ("北海道平均", pref),
        ("政令指定都市平均", kind),
        ("全国平均", list(counted)),
    ):
        assert series[scope][0] == pytest.approx(mean(expected[a.pk][0] for a in members), abs=1e-9)
        for i, section in enumerate(sections, start=1):
            values = [expected[a.pk][1].get(section.pk) for a in members]
            assert series[scope][i] == pytest.approx(mean(values), abs=1e-9)
    html = response.content.decode()
    assert html.count("<svg") == 2 and "comparison-table" in html


QUERY_VIEWS = {
    # session; user; the chosen guideline; sections; status counts (one grouped query, whose
    # sum is the number of rows); the page of ids in order (sorted by score: one join grouped
    # by id); the page's assessments; their section scores (one grouped query: the overall
    # figures are their sums, the number to answer the kept catalog's); the filter form's
    # guidelines and, for the national admin, prefectures (the session is not written)
    "dashboard": ("dashboard", {}),
    # … the same, the number of rows counted instead of the status counts
    "dashboard_heatmap": ("dashboard_heatmap", {}),
    # session; user; guideline; measures; measure × kind × level counts (one grouped query);
    # the form (guidelines ×2, prefectures) (the session is not written)
    "dashboard_distribution": ("dashboard_distribution", {}),
    # session; user; guideline; sections; all rows with scores (one join and GROUP BY, the
    # number of scored measures a subquery); section scores of all rows (one grouped query
    # over a subquery);
    # (the session is not written)
    "dashboard_export_csv": ("dashboard_export", {"fmt": "csv"}),
    "dashboard_export_xlsx": ("dashboard_export", {"fmt": "xlsx"}),
    # session; user; guideline; averages by prefecture × year (one statement); prefectures;
    # averages by kind × year (one statement); the form (guidelines ×2, prefectures);
    # (the session is not written)
    "dashboard_prefectures": ("dashboard_prefectures", {}),
}
# The filter form's selects are written by assessments/form_html.py, which reads each choice
# list once (crispy read the guidelines twice).
PINNED = {
    ("dashboard", "national_admin"): 10,
    ("dashboard", "hokkaido_reviewer"): 9,
    ("dashboard_heatmap", "national_admin"): 10,
    ("dashboard_heatmap", "hokkaido_reviewer"): 9,
    ("dashboard_distribution", "national_admin"): 7,
    ("dashboard_distribution", "hokkaido_reviewer"): 6,
    ("dashboard_export_csv", "national_admin"): 6,
    ("dashboard_export_csv", "hokkaido_reviewer"): 6,
    ("dashboard_export_xlsx", "national_admin"): 6,
    ("dashboard_export_xlsx", "hokkaido_reviewer"): 6,
    ("dashboard_prefectures", "national_admin"): 8,
    # the reviewer: its prefecture's averages, the national average, its kinds, its bodies and
    # their scores for both years (one join), instead of the 47 prefectures
    ("dashboard_prefectures", "hokkaido_reviewer"): 9,
}


def count_queries(client, url, params):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("key", sorted(PINNED), ids=lambda k: f"{k[0]}-{k[1]}")
def test_query_counts_do_not_grow_from_10_to_200_bodies(client, populate, request, key):
    view, persona = key
    user = request.getfixturevalue(persona)
    name, kwargs = QUERY_VIEWS[view]
    url = reverse(name, kwargs=kwargs)
    codes = list(Body.objects.order_by("code").values_list("code", flat=True)[:200])
    populate(codes[:10])
    client.force_login(user)
    params = {"fiscal_year": 2026, "guideline": "egov-2003", "sort": "-score"}
    client.get(url, params)  # the session's first page stamps its start
    small = count_queries(client, url, params)
    populate(codes[10:])
    large = count_queries(client, url, params)
    assert (small, large) == (PINNED[key], PINNED[key])


@pytest.mark.parametrize("size", [10, 200])
def test_comparison_query_count_is_fixed(client, populate, hokkaido_reviewer, size):
    codes = list(Body.objects.order_by("code").values_list("code", flat=True)[:size])
    populate(codes)
    sapporo = Assessment.objects.get(body__code="011002", fiscal_year=2026)
    client.force_login(hokkaido_reviewer)
    url = reverse("comparison", kwargs=sapporo.url_kwargs)
    client.get(url)
    # session; user; assessment; sections; scores; section scores; 3 scopes × 2 averages;
    # (the session is not written)
    assert count_queries(client, url, {}) == 12


def test_heatmap_cells_and_table_show_the_section_scores(
    client, hokkaido_reviewer, populate, guideline_2003
):
    populate(HOKKAIDO_CODES)
    client.force_login(hokkaido_reviewer)
    response = client.get(reverse("dashboard_heatmap"), {"fiscal_year": 2026})
    html = response.content.decode()
    expected = recompute(guideline_2003)
    sapporo = Assessment.objects.get(body__code="011002", fiscal_year=2026)
    for section in response.context["sections"]:
        value = expected[sapporo.pk][1].get(section.pk)
        shown = "—" if value is None else str(half_up(value))
        assert f"<title>札幌市 {section.ref}: {shown}</title>" in html  # the SVG cell
    assert html.count('role="img"') == 1 and 'id="dashboard-table"' in html


def test_a_page_of_rows_has_the_figures_with_scores_computes(populate, guideline_2003):
    """The dashboard's page sums the section totals (two queries for any page); every figure
    equals Assessment.objects.with_scores() over the same answers (one number everywhere), for
    a prefecture and municipalities, results and drafts."""
    from assessments.selectors import dashboards

    codes = ["010006", "011002", "012025", "013030", "013315"]  # 北海道 and four municipalities
    populate(codes)
    expected = {
        a.pk: a for a in Assessment.objects.filter(body__code__in=codes).with_scores(guideline_2003)
    }
    sections = dashboards.scored_sections(guideline_2003)
    rows = dashboards.rows_for_page(list(expected), guideline_2003, sections)
    assert [row.assessment.pk for row in rows] == list(expected)
    for row in rows:
        want = expected[row.assessment.pk]
        assert row.score == want.score
        for name in ("answered_count", "not_applicable_count", "to_answer_count"):
            assert getattr(row.assessment, name) == getattr(want, name), name


def test_section_totals_of_a_list_equal_the_orm_query(populate, django_assert_num_queries):
    """section_totals for a list of ids runs the statement compiled once per process; it gives
    what the ORM gives for the same ids (here through a subquery, which takes the ORM path)."""
    codes = ["010006", "011002", "012025", "013030", "013315"]
    populate(codes)
    ids = list(Assessment.objects.filter(body__code__in=codes).values_list("pk", flat=True))
    through_orm = Answer.objects.section_totals(Assessment.objects.filter(pk__in=ids).values("pk"))
    assert through_orm and Answer.objects.section_totals(ids) == through_orm
    for pk in ids[:3]:  # one id: the section page's and the overview's case, compiled already
        with django_assert_num_queries(1):
            one = Answer.objects.section_totals([pk])
        assert one == {key: value for key, value in through_orm.items() if key[0] == pk}
    assert Answer.objects.section_totals([]) == {}
