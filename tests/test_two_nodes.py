"""Two app servers (gunicorn, production mode, different ports) and one PDF worker sharing a
database and an S3 bucket (moto's S3 server over HTTP): evidence uploaded through one downloads
through the other, a PDF rendered for one is served from the cache by the other, and a batch
started on one is processed by the worker and downloadable from both.

The database is a SQLite file, or a new database on the PostgreSQL server of the run.
"""

import io
import json
import re
import subprocess
import uuid
import zipfile

import pytest

from assessments.models import Measure
from tests.test_filling import PDF, section_post
from tests.test_object_storage import BUCKET, s3_endpoint  # noqa: F401 (fixture)
from tests.test_recovery import WorkerDatabase, wait_for
from tests.test_serving import GUNICORN, PASSWORD, ROOT, Browser, free_port

SETUP = f"""
from assessments.models import Assessment, Body, Guideline, User
guideline = Guideline.objects.get(code="egov-2003")
for code in ("010006", "011002"):
    Assessment.objects.create(body=Body.objects.get(code=code), guideline=guideline,
                              fiscal_year=2026, status="submitted" if code == "010006" else "in_progress")
User.objects.create_user("sapporo", password="{PASSWORD}", role="body_staff",
                         body=Body.objects.get(code="011002"))
User.objects.create_user("hokkaido", password="{PASSWORD}", role="prefecture_reviewer",
                         body=Body.objects.get(code="010006"))
"""


def multipart(fields: dict, files: dict) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    out = io.BytesIO()
    for name, value in fields.items():
        out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode())
        out.write(f"{value}\r\n".encode())
    for name, (filename, content) in files.items():
        out.write(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
            f'filename="{filename}"\r\nContent-Type: application/pdf\r\n\r\n'.encode()
        )
        out.write(content + b"\r\n")
    out.write(f"--{boundary}--\r\n".encode())
    return out.getvalue(), f"multipart/form-data; boundary={boundary}"


def log_in(base: str, username: str) -> Browser:
    browser = Browser(base)
    browser.request("/accounts/login/")
    status, _, _ = browser.request(
        "/accounts/login/",
        {
            "username": username,
            "password": PASSWORD,
            "csrfmiddlewaretoken": browser.cookies["csrftoken"],
        },
    )
    assert status == 302, "login refused"
    return browser


@pytest.fixture
def cluster(tmp_path, reference_data, s3_endpoint):  # noqa: F811
    import boto3

    s3 = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="ap-northeast-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    bucket = f"{BUCKET}-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(
        Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "ap-northeast-1"}
    )
    db = WorkerDatabase(tmp_path)
    db.env |= {
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "two-nodes-" + "k" * 50,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "EGOV_LOG_LEVEL": "WARNING",
        "EGOV_S3_BUCKET": bucket,
        "EGOV_S3_ENDPOINT_URL": s3_endpoint,
        "EGOV_S3_ACCESS_KEY_ID": "testing",
        "EGOV_S3_SECRET_ACCESS_KEY": "testing",
        "GUNICORN_WORKERS": "1",
        # Reviewers' second factor is tested on its own (test_accounts_mfa.py, the browser).
        "EGOV_REQUIRE_MFA": "0",
    }
    processes = []
    try:
        db.manage("migrate", "-v0")
        db.manage("load_guidelines")
        db.manage("load_bodies")
        db.manage("shell", "-v0", "-c", SETUP)
        nodes = []
        for node in ("a", "b"):
            port = free_port()
            env = db.env | {"GUNICORN_BIND": f"127.0.0.1:{port}"}
            processes.append(
                subprocess.Popen(
                    [str(GUNICORN), "--config", "deploy/gunicorn.conf.py"],
                    cwd=ROOT,
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=open(tmp_path / f"node-{node}.log", "wb"),  # noqa: SIM115
                )
            )
            nodes.append(f"http://127.0.0.1:{port}")
        processes.append(db.worker("--queue-name", "reports", log="worker.log"))
        for base in nodes:
            wait_for(lambda base=base: _answers(base), 60, f"{base} to answer")
        yield db, s3, bucket, nodes
    finally:
        for process in processes:
            process.kill()
            process.wait()
        for item in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
            s3.delete_object(Bucket=bucket, Key=item["Key"])
        s3.delete_bucket(Bucket=bucket)
        db.drop()


def _answers(base: str) -> bool:
    try:
        return Browser(base).request("/healthz/")[0] == 200
    except OSError:
        return False


def test_two_app_servers_share_the_database_the_bucket_and_the_worker(cluster):
    db, s3, bucket, (node_a, node_b) = cluster
    staff_a, staff_b = log_in(node_a, "sapporo"), log_in(node_b, "sapporo")

    # Evidence uploaded through A downloads through B (the file is in the bucket).
    measures = list(
        Measure.objects.scored().filter(section__ref="II.5", guideline__code="egov-2003")
    )
    first = measures[0]
    fields = section_post(measures, {first.pk: {"level": "2"}})
    fields["csrfmiddlewaretoken"] = staff_a.cookies["csrftoken"]
    body, content_type = multipart(fields, {f"m{first.order}-evidence_file": ("計画書.pdf", PDF)})
    section = "/assessments/011002/2026/egov-2003/sections/II.5/"
    status, _, page = staff_a.request(section, headers={"Content-Type": content_type}, raw=body)
    assert status == 302, page[:2000]
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert any(k.startswith("media/evidence/") for k in keys), keys
    evidence = f"/assessments/011002/2026/egov-2003/measures/{first.ref}/evidence/"
    from urllib.parse import quote

    status, headers, data = staff_b.request(quote(evidence))
    assert status == 200 and data == PDF

    # A PDF rendered for A (by the worker) is served from the cache by B without a new render.
    report = "/assessments/011002/2026/egov-2003/report.pdf"
    status, headers, _ = staff_a.request(report)
    assert headers["Content-Type"].startswith("text/html")  # the progress page: queued
    wait_for(
        lambda: json.loads(staff_a.request(report, headers={"Accept": "application/json"})[2])[
            "ready"
        ],
        120,
        "the worker's render",
    )
    status, headers, from_b = staff_b.request(report)
    assert status == 200 and headers["Content-Type"] == "application/pdf"
    assert from_b.startswith(b"%PDF-")
    renders = db.query("SELECT COUNT(*) FROM assessments_reportrender")[0][0]
    assert renders == 1, "B rendered the PDF again instead of serving A's"

    # A batch started on A is processed by the worker and downloadable from A and B.
    reviewer_a, reviewer_b = log_in(node_a, "hokkaido"), log_in(node_b, "hokkaido")
    batches = "/prefectures/010006/2026/egov-2003/report-batches/"
    status, _, page = reviewer_a.request(batches)
    assert status == 200, page[:500]
    status, headers, _ = reviewer_a.request(
        batches, {"csrfmiddlewaretoken": reviewer_a.cookies["csrftoken"]}
    )
    assert status == 302
    batch_url = headers["Location"]
    wait_for(
        lambda: db.query("SELECT status FROM assessments_reportbatch")[0][0] == "done",
        180,
        "the batch",
    )
    zip_url = re.sub(r"/?$", "/reports.zip", batch_url, count=1)
    for reviewer in (reviewer_a, reviewer_b):
        status, headers, data = reviewer.request(zip_url)
        assert status == 200, data[:300]
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            assert len(archive.namelist()) == 3  # the summary, 北海道 and 札幌市
