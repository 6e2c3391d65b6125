"""Benchmark the PDF reports against baselines measured in the same run.

    .venv/bin/python bench/reports.py [--assessments 8] [--repeat 3]

Builds a throw-away SQLite database (catalog, 1,788 bodies, N full 35-measure assessments of
北海道 bodies with notes, evidence, plans and a review comment), then prints:
  1. the app's assessment PDF render  vs  bare WeasyPrint rendering the same HTML (ratio);
  2. a cached download of report.pdf  vs  the first, uncached download (ratio);
  3. batch throughput in reports/second/core with --jobs 1 and --jobs 2 (ratio 2 vs 1).
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
WORK = Path(tempfile.mkdtemp(prefix="egov-bench-"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "egov.settings")
os.environ["DATABASE_URL"] = f"sqlite:///{WORK / 'bench.sqlite3'}"
os.environ["EGOV_MEDIA_ROOT"] = str(WORK / "media")
os.environ.setdefault("EGOV_LOG_LEVEL", "ERROR")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.cache import caches  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import override_settings  # noqa: E402
from django.urls import reverse  # noqa: E402

from assessments.catalog import load_catalog  # noqa: E402
from assessments.models import (  # noqa: E402
    Answer,
    Assessment,
    Body,
    Guideline,
    Measure,
    ReviewComment,
    User,
)
from assessments.registry import load_bodies  # noqa: E402
from assessments.reports import batch  # noqa: E402
from assessments.reports import pdf as reports  # noqa: E402
from assessments.reports.fetcher import StaticOnlyFetcher  # noqa: E402

NOTE = (
    "庁内の推進委員会で検討し、関係各課と調整のうえ段階的に導入している。"
    "課題は予算と人材の確保であり、次年度以降も継続して取り組む。"
)


def build(count: int) -> list[Assessment]:
    call_command("migrate", verbosity=0)
    load_catalog()
    load_bodies()
    guideline = Guideline.objects.get(code="egov-2003")
    measures = list(Measure.objects.filter(guideline=guideline, is_scored=True).order_by("order"))
    reviewer = User.objects.create_user(
        "bench-reviewer", role=User.Role.PREFECTURE_REVIEWER, body=Body.objects.get(code="010006")
    )
    bodies = list(Body.objects.filter(prefecture__code="010006").order_by("code")[:count])
    made = []
    for n, body in enumerate(bodies):
        assessment = Assessment.objects.create(
            body=body, guideline=guideline, fiscal_year=2026, status=Assessment.Status.IN_PROGRESS
        )
        Answer.objects.bulk_create(
            Answer(
                assessment=assessment,
                measure=m,
                level=(i + n) % 5,
                note=f"{m.ref}：{NOTE}",
                department="情報政策課",
                evidence_url=f"https://www.example.lg.jp/{body.code}/{i}.pdf",
                evidence_name=f"{m.ref}_根拠資料.pdf",
                target_level=min(4, (i + n) % 5 + 1),
                target_fiscal_year=2027 + i % 3,
                improvement_plan=f"{m.title_ja}について、{NOTE}",
            )
            for i, m in enumerate(measures)
        )
        ReviewComment.objects.create(
            assessment=assessment, measure=measures[0], author=reviewer, body="確認しました。"
        )
        made.append(assessment)
    return made


def timed(fn, repeat: int) -> float:
    """Median wall time of `repeat` calls, after one warm-up call."""
    fn()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--assessments", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    from weasyprint import HTML

    print(f"building {args.assessments} assessments in {WORK} …", file=sys.stderr)
    made = build(args.assessments)
    subject = made[0]
    html = reports.render_assessment_html(subject)
    pages = len(
        HTML(string=html, base_url=reports.STATIC_BASE, url_fetcher=StaticOnlyFetcher())
        .render()
        .pages
    )

    # 1. The app's renderer vs bare WeasyPrint on the same HTML (default fetcher, no tags).
    css = (ROOT / "static" / "css" / "pdf.css").read_text()
    bare_html = html.replace(
        '<link rel="stylesheet" href="static/css/pdf.css">', f"<style>{css}</style>"
    )
    bare = timed(lambda: HTML(string=bare_html).write_pdf(), args.repeat)
    app = timed(lambda: reports.render_assessment_pdf(subject), args.repeat)
    context_only = timed(lambda: reports.render_assessment_html(subject), args.repeat)

    # 2. A cached download vs the uncached one (web view, through the reports cache).
    client = Client(HTTP_HOST="localhost")
    client.force_login(User.objects.get(username="bench-reviewer"))
    url = reverse("report_pdf", kwargs=subject.url_kwargs)
    uncached_samples, cached_samples = [], []
    for _ in range(args.repeat):
        caches[reports.CACHE_ALIAS].clear()
        started = time.perf_counter()
        assert client.get(url).status_code == 200
        uncached_samples.append(time.perf_counter() - started)
        started = time.perf_counter()
        assert client.get(url).status_code == 200
        cached_samples.append(time.perf_counter() - started)
    uncached, cached = statistics.median(uncached_samples), statistics.median(cached_samples)

    # 3. Batch throughput per core, always rendering (no cache), jobs 1 and 2.
    items = batch.select_assessments(fiscal_year=2026, guideline_code="egov-2003", prefecture="01")
    dummy = dict(
        settings.CACHES, reports={"BACKEND": "django.core.cache.backends.dummy.DummyCache"}
    )
    throughput = {}
    with override_settings(CACHES=dummy):
        for jobs in (1, 2):
            out = WORK / f"batch-{jobs}"
            started = time.perf_counter()
            outcome = batch.render_many(items, out, jobs=jobs, seconds=300)
            elapsed = time.perf_counter() - started
            assert not outcome.failed, outcome.failed
            throughput[jobs] = len(outcome.rendered) / elapsed / jobs

    cores = os.cpu_count()
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"\nreport: {pages} pages, 35 measures with notes; {len(items)} reports; {cores} cores")
    print(f"load average during the run: {load} (other processes share these cores)")
    print("1. assessment PDF (app: data + template + tagged PDF/UA, static-only fetcher)")
    print(f"   bare WeasyPrint, same HTML       {bare:7.3f} s   (baseline 1.00)")
    print(f"   render_assessment_pdf            {app:7.3f} s   ratio {app / bare:5.2f}")
    print(
        f"     of which data + template       {context_only:7.3f} s   ratio {context_only / bare:5.2f}"
    )
    print("2. report.pdf download")
    print(f"   first (uncached)                 {uncached:7.3f} s   (baseline 1.00)")
    print(f"   second (cached)                  {cached:7.3f} s   ratio {cached / uncached:7.4f}")
    print("3. batch throughput (reports / s / core)")
    print(f"   --jobs 1                         {throughput[1]:7.3f}     (baseline 1.00)")
    print(
        f"   --jobs 2                         {throughput[2]:7.3f}     ratio {throughput[2] / throughput[1]:5.2f}"
    )


if __name__ == "__main__":
    main()
