"""Files in S3-compatible object storage (django-storages), against a real S3 API over HTTP: moto's
standalone server on a loopback port. Evidence, the PDF cache and batch ZIPs all go to the bucket,
and come back through the app's access-checked views.
"""

import io
import socket
import zipfile

import pytest
from django.core.cache import caches
from django.urls import reverse

from assessments.models import Answer, Assessment
from assessments.reports import batch, pdf
from tests.support import download_pdf
from tests.test_evidence import post_evidence
from tests.test_filling import PDF, section_measures
from tests.test_reports import fill

BUCKET = "egov-assess-test"


@pytest.fixture(scope="module")
def s3_endpoint():
    from moto.server import ThreadedMotoServer

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def bucket(s3_endpoint, settings, monkeypatch):
    """The settings EGOV_S3_* would give (egov/settings.py), and an empty bucket."""
    import boto3

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="ap-northeast-1")
    client.create_bucket(
        Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "ap-northeast-1"}
    )
    options = {
        "bucket_name": BUCKET,
        "endpoint_url": s3_endpoint,
        "region_name": "ap-northeast-1",
        "access_key": "testing",
        "secret_key": "testing",
        "addressing_style": "path",
        "default_acl": None,
        "file_overwrite": False,
    }
    backend = "storages.backends.s3.S3Storage"
    settings.STORAGES = settings.STORAGES | {
        "default": {"BACKEND": backend, "OPTIONS": options | {"location": "media"}},
        "reports": {
            "BACKEND": backend,
            "OPTIONS": options | {"location": "report-batches", "file_overwrite": True},
        },
        "report_cache": {
            "BACKEND": backend,
            "OPTIONS": options | {"location": "report-cache", "file_overwrite": True},
        },
    }
    settings.CACHES = settings.CACHES | {
        "reports": {
            "BACKEND": "assessments.storage_cache.StorageCache",
            "LOCATION": "report_cache",
            "TIMEOUT": None,
        }
    }
    yield client
    for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=item["Key"])
    client.delete_bucket(Bucket=BUCKET)


def keys(client, prefix: str) -> list[str]:
    listing = client.list_objects_v2(Bucket=BUCKET, Prefix=prefix)
    return sorted(item["Key"] for item in listing.get("Contents", []))


def test_evidence_goes_to_the_bucket_and_comes_back_through_the_access_check(
    client, bucket, sapporo_staff, make_assessment, guideline_2003, tmp_path, settings
):
    settings.MEDIA_ROOT = tmp_path / "no-local-media"
    assessment = make_assessment("011002", 2026)
    measures = section_measures(guideline_2003, "II.5")
    client.force_login(sapporo_staff)
    assert post_evidence(client, assessment, measures, "計画書.pdf", PDF).status_code == 302
    answer = Answer.objects.get(assessment=assessment, measure=measures[0])
    (key,) = keys(bucket, "media/")
    assert key == f"media/{answer.evidence_file.name}"
    assert not settings.MEDIA_ROOT.exists(), "nothing is written to the local disk"
    url = reverse(
        "evidence_download", kwargs={**assessment.url_kwargs, "measure_ref": measures[0].ref}
    )
    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF


def test_the_pdf_cache_and_batch_zips_live_in_the_bucket(
    client, bucket, hokkaido_reviewer, make_assessment, scored_2003, monkeypatch
):
    monkeypatch.setattr(
        pdf, "render_assessment_pdf", lambda a: b"%PDF-1.7\n" + a.body.code.encode() + b"\n%%EOF\n"
    )
    monkeypatch.setattr(
        pdf, "render_prefecture_summary_pdf", lambda *args: b"%PDF-1.7\nsummary\n%%EOF\n"
    )
    monkeypatch.setattr(batch, "render_prefecture_summary_pdf", pdf.render_prefecture_summary_pdf)
    for code in ("010006", "011002"):
        fill(make_assessment(code, 2026, status=Assessment.Status.SUBMITTED), scored_2003[:3])
    sapporo = Assessment.objects.get(body__code="011002")

    # The PDF cache: a rendered report is one object, read back by key.
    data = pdf.cached_assessment_pdf(sapporo)
    assert len(keys(bucket, "report-cache/")) == 1
    assert caches["reports"].get(pdf.report_cache_key(sapporo)) == data
    client.force_login(hokkaido_reviewer)
    assert download_pdf(client, reverse("report_pdf", kwargs=sapporo.url_kwargs)).content == data

    # A batch ZIP is stored in the bucket and served from it.
    job = batch.report_batch_start(
        prefecture=sapporo.body.prefecture,
        guideline=sapporo.guideline,
        fiscal_year=2026,
        user=hokkaido_reviewer,
    )
    batch.run_report_batch(job.pk)
    job.refresh_from_db()
    assert job.status == "done"
    assert keys(bucket, "report-batches/") == [f"report-batches/{job.zip_name}"]
    response = client.get(reverse("report_batch_zip", kwargs={"batch_id": job.public_id}))
    assert response.status_code == 200
    with zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))) as archive:
        assert len(archive.namelist()) == 3


@pytest.mark.django_db
@pytest.mark.usefixtures("thread_safe_default_cache")
def test_the_readiness_probe_writes_to_the_bucket(client, bucket):
    response = client.get("/readyz/")
    assert response.status_code == 200, response.content
    assert keys(bucket, "") == []  # the probe's file and cache entry are deleted again
