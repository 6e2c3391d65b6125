"""A request body over EGOV_MAX_REQUEST_BYTES is refused before Django reads or spools any of it.

The requests go through the real WSGI handler with a body stream that counts what is read from
it, as gunicorn would hand it over: a 1 GiB Content-Length with only a few bytes behind it.
"""

import io

import pytest
from django.core.handlers.wsgi import WSGIHandler

GIB = 1024**3
SECTION = "/assessments/011002/2026/egov-2003/sections/II.3/"


class CountingStream(io.RawIOBase):
    """A client's body: a few bytes, then it would block; counts every byte read."""

    def __init__(self, data: bytes):
        self.data, self.read_bytes = io.BytesIO(data), 0

    def readable(self):
        return True

    def readinto(self, buffer):
        chunk = self.data.read(len(buffer))
        self.read_bytes += len(chunk)
        buffer[: len(chunk)] = chunk
        return len(chunk)


def call_wsgi(path: str, headers: dict[str, str], body: bytes = b"x" * 64):
    stream = CountingStream(body)
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1",
        "CONTENT_TYPE": "multipart/form-data; boundary=xyz",
        "wsgi.input": stream,
        "wsgi.errors": io.StringIO(),
        "wsgi.url_scheme": "http",
        "wsgi.version": (1, 0),
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    } | headers
    captured = {}

    def start_response(status, response_headers, exc_info=None):
        captured["status"] = int(status.split()[0])
        captured["headers"] = dict(response_headers)

    content = b"".join(WSGIHandler()(environ, start_response))
    return captured["status"], captured["headers"], content.decode(), stream.read_bytes


@pytest.fixture
def upload_dirs(settings, tmp_path, media_root):
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path / "spool")
    (tmp_path / "spool").mkdir()
    return [tmp_path / "spool", media_root]


def stored_files(directories) -> list:
    return [p for d in directories if d.exists() for p in d.rglob("*") if p.is_file()]


@pytest.mark.django_db
def test_a_1_gib_content_length_is_refused_before_the_body_is_read(upload_dirs):
    status, headers, page, read = call_wsgi(SECTION, {"CONTENT_LENGTH": str(GIB)})
    assert status == 413
    assert read == 0, "the body was read before the request was refused"
    assert not stored_files(upload_dirs)
    assert "送信データが大きすぎます" in page and "11.0\xa0MB" in page
    assert "no-store" in headers["Cache-Control"]
    assert "Set-Cookie" not in headers


@pytest.mark.django_db
def test_the_limit_is_the_setting(settings, upload_dirs):
    settings.MAX_REQUEST_BYTES = 100 * 1024
    assert call_wsgi(SECTION, {"CONTENT_LENGTH": str(100 * 1024 + 1)})[0] == 413
    # Under the limit the request goes on, to the CSRF check (this test sends no token).
    status, _headers, _page, _read = call_wsgi(SECTION, {"CONTENT_LENGTH": str(64)})
    assert status == 403


@pytest.mark.django_db
def test_a_chunked_body_without_length_is_refused(upload_dirs):
    status, _headers, page, read = call_wsgi(SECTION, {"HTTP_TRANSFER_ENCODING": "chunked"})
    assert status == 411 and read == 0
    assert "Content-Length" in page
    assert not stored_files(upload_dirs)


@pytest.mark.django_db
def test_a_malformed_length_is_refused(upload_dirs):
    assert call_wsgi(SECTION, {"CONTENT_LENGTH": "-5"})[0] == 400
    assert call_wsgi(SECTION, {"CONTENT_LENGTH": "1e9"})[0] == 400


@pytest.mark.django_db
def test_the_page_is_japanese_whatever_the_thread_last_spoke(upload_dirs):
    from django.utils import translation

    with translation.override("en"):
        _status, _headers, page, _read = call_wsgi(SECTION, {"CONTENT_LENGTH": str(GIB)})
    assert '<html lang="ja">' in page and "送信データが大きすぎます" in page
