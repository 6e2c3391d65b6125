"""Time the dashboards at national scale against raw SQL returning the same numbers.

Usage: .venv/bin/python bench/dashboards.py [--database-url URL] [--repeat N]

Builds a fresh database (a new SQLite file by default; with --database-url, that database is
migrated and flushed first), loads the catalog and all 1,788 bodies, runs
build_national_dataset (3 fiscal years, ~188k answers), then times, several times each:

- national dashboard: the national administrator's /dashboard/ for FY2026, sorted by score
  (page 1 of all 1,788 bodies), through the Django test client (views, templates included);
- prefecture dashboard: the 北海道 reviewer's /dashboard/ (all 180 bodies on one page);
- distribution: dashboards.level_distribution for the whole nation (measure × kind × level).

Each is compared with a baseline measured in the same run: one or two raw SQL statements
(cursor.execute) computing the same numbers, and the numbers are checked to agree.
Prints: name, median ms, baseline median ms, ratio. Not a test: no assertion on time.
"""

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FISCAL_YEAR = 2026
PAGE = 50  # the national dashboard's page size


def timed_pair(fn, baseline, repeat: int) -> tuple[float, float, object, object]:
    """Median ms of `fn` and of `baseline`, run in turn (A B A B …) after one warm-up each, so
    that drift of the machine's speed affects both alike."""
    fn(), baseline()  # warm up (caches, connection)
    times: tuple[list[float], list[float]] = ([], [])
    results: list[object] = [None, None]
    for _ in range(repeat):
        for i, call in enumerate((fn, baseline)):
            started = time.perf_counter()
            results[i] = call()
            times[i].append((time.perf_counter() - started) * 1000)
    return statistics.median(times[0]), statistics.median(times[1]), results[0], results[1]


def setup_database(url: str | None) -> str:
    if url is None:
        directory = tempfile.mkdtemp(prefix="egov-bench-")
        url = f"sqlite:///{directory}/bench.sqlite3"
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "egov.settings")
    os.environ.setdefault("EGOV_LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    if connection.vendor != "sqlite":
        call_command("flush", interactive=False, verbosity=0)
    return url


def build(years: int = 3) -> float:
    """The catalog, the bodies and `years` fiscal years of answers up to FISCAL_YEAR (the years
    already built are kept: build(1) then build(6) adds five earlier years)."""
    from django.core.management import call_command
    from django.db import connection

    from assessments.catalog import load_catalog
    from assessments.registry import load_bodies

    started = time.perf_counter()
    load_catalog()
    report = load_bodies()
    assert report.ok, report.errors
    call_command(
        "build_national_dataset",
        years=list(range(FISCAL_YEAR - years + 1, FISCAL_YEAR + 1)),
        stdout=io.StringIO(),
    )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # planner statistics after the bulk load, as autovacuum would
    return time.perf_counter() - started


# Results (submitted, approved) are ranked by score; drafts follow them, as on the page.
SCORE_SQL = """
    SELECT s.id, 100.0 * SUM(m.weight * a.level) / SUM(m.weight * 4) AS score,
           CASE WHEN s.status IN ('submitted', 'approved') THEN 0 ELSE 1 END AS draft
    FROM assessments_answer a
    JOIN assessments_measure m ON m.id = a.measure_id
    JOIN assessments_assessment s ON s.id = a.assessment_id
    JOIN assessments_body b ON b.id = s.body_id
    JOIN assessments_guideline g ON g.id = s.guideline_id
    WHERE g.code = 'egov-2003' AND s.fiscal_year = %s AND m.is_scored AND a.level IS NOT NULL
      {scope}
    GROUP BY s.id, s.status
    ORDER BY draft, score DESC, s.id
    {limit}
"""
SECTION_SQL = """
    SELECT a.assessment_id, m.section_id,
           100.0 * SUM(m.weight * a.level) / SUM(m.weight * 4)
    FROM assessments_answer a JOIN assessments_measure m ON m.id = a.measure_id
    WHERE m.is_scored AND a.level IS NOT NULL AND a.assessment_id IN ({ids})
    GROUP BY a.assessment_id, m.section_id
"""
DISTRIBUTION_SQL = """
    SELECT a.measure_id, b.kind, a.level, a.not_applicable, COUNT(*)
    FROM assessments_answer a
    JOIN assessments_measure m ON m.id = a.measure_id
    JOIN assessments_assessment s ON s.id = a.assessment_id
    JOIN assessments_body b ON b.id = s.body_id
    JOIN assessments_guideline g ON g.id = s.guideline_id
    WHERE g.code = 'egov-2003' AND s.fiscal_year = %s AND s.status IN ('submitted', 'approved')
      AND m.is_scored AND (a.level IS NOT NULL OR a.not_applicable)
    GROUP BY a.measure_id, b.kind, a.level, a.not_applicable
"""


def raw_scores(scope: str = "", params=(), limit: str = "") -> list[tuple[int, float, dict]]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(SCORE_SQL.format(scope=scope, limit=limit), [FISCAL_YEAR, *params])
        scores = [(pk, score) for pk, score, _draft in cursor.fetchall()]
        ids = ", ".join(str(pk) for pk, _score in scores) or "0"
        cursor.execute(SECTION_SQL.format(ids=ids))
        sections: dict[int, dict] = {}
        for assessment_id, section_id, score in cursor.fetchall():
            sections.setdefault(assessment_id, {})[section_id] = score
    return [(pk, score, sections.get(pk, {})) for pk, score in scores]


def raw_distribution() -> dict:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(DISTRIBUTION_SQL, [FISCAL_YEAR])
        return {(m, k, "na" if na else level): n for m, k, level, na, n in cursor.fetchall()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument(
        "--years",
        type=int,
        nargs="+",
        default=[3],
        help="fiscal years of history to time with, in turn (e.g. 1 6: is the time flat?)",
    )
    args = parser.parse_args()

    url = setup_database(args.database_url)
    from django.test.utils import setup_test_environment

    setup_test_environment()  # the test client's host and the locmem mail backend
    for years in sorted(args.years):
        run(args, url, years)


def run(args, url: str, years: int) -> None:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from assessments.models import Answer, Assessment, Body, Guideline, User
    from assessments.selectors import dashboards

    seconds = build(years)
    print(f"\ndatabase: {connection.vendor} ({url.split('@')[-1]}), {years} fiscal year(s)")
    print(
        f"dataset: {Body.objects.count()} bodies, {Assessment.objects.count()} assessments, "
        f"{Answer.objects.count()} answers (built in {seconds:.1f} s)"
    )

    admin, _ = User.objects.get_or_create(
        username="bench-admin", defaults={"role": User.Role.NATIONAL_ADMIN}
    )
    hokkaido = Body.objects.get(code="010006")
    reviewer, _ = User.objects.get_or_create(
        username="bench-reviewer",
        defaults={"role": User.Role.PREFECTURE_REVIEWER, "body": hokkaido},
    )
    params = {"fiscal_year": FISCAL_YEAR, "guideline": "egov-2003", "sort": "-score"}
    national_client, prefecture_client = Client(), Client()
    national_client.force_login(admin)
    prefecture_client.force_login(reviewer)

    def page(client):
        def get():
            response = client.get("/dashboard/", params)
            assert response.status_code == 200
            return response.context["rows"]

        return get

    guideline = Guideline.objects.get(code="egov-2003")
    filters = dashboards.Filters(guideline=guideline, fiscal_year=FISCAL_YEAR)
    hokkaido_scope = "AND (b.prefecture_id = %s OR b.id = %s)"
    cases = [
        (
            "national dashboard (page 1 of 1,788, by score)",
            page(national_client),
            lambda: raw_scores(limit=f"LIMIT {PAGE}"),
        ),
        (
            "prefecture dashboard (北海道, 180 bodies)",
            page(prefecture_client),
            lambda: raw_scores(hokkaido_scope, (hokkaido.pk, hokkaido.pk)),
        ),
        (
            "distribution (measure × kind × level, nation)",
            lambda: dashboards.level_distribution(admin, filters),
            raw_distribution,
        ),
    ]

    results = []
    for name, fn, baseline in cases:
        ms, baseline_ms, value, expected = timed_pair(fn, baseline, args.repeat)
        check(name, value, expected)
        results.append((name, ms, baseline_ms))

    width = max(len(name) for name, *_ in results)
    print()
    print(f"{'name':<{width}}  {'median ms':>10}  {'baseline ms':>11}  {'ratio':>6}")
    for name, ms, baseline_ms in results:
        print(f"{name:<{width}}  {ms:>10.1f}  {baseline_ms:>11.1f}  {ms / baseline_ms:>6.1f}")
    print(f"(median of {args.repeat} runs each, alternating with the baseline, after a warm-up)")

    # The national dashboard's own queries, without the page around them.
    client = Client()
    client.force_login(admin)
    query_ms = []
    for _ in range(args.repeat):
        with CaptureQueriesContext(connection) as queries:
            client.get("/dashboard/", params)
        query_ms.append(sum(float(q["time"]) for q in queries.captured_queries) * 1000)
    print(f"national dashboard SQL: {statistics.median(query_ms):.1f} ms ({years} year(s))")


def check(name, value, expected) -> None:
    """The timed path and the raw SQL must give the same numbers."""
    if name.startswith("distribution"):
        _kinds, measures = value
        got = {
            (d.measure.pk, kind, column): cell.count
            for d in measures
            for kind, cells in d.by_kind.items()
            for column, cell in cells.items()
            if cell.count
        }
        assert got == expected, "distribution differs from the raw SQL"
        return
    got = sorted(float(row.score.value) for row in value if row.score.value is not None)
    want = sorted(float(score) for _pk, score, _sections in expected)
    assert len(got) == len(want), (len(got), len(want))
    assert all(abs(a - b) <= 1e-9 for a, b in zip(got, want, strict=True)), name


if __name__ == "__main__":
    main()
