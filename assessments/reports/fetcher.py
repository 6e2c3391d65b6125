"""The only way WeasyPrint may load anything: the app's own PDF stylesheet, from an allow-list.

WeasyPrint's default fetcher reads file://, http(s):// and data: URLs, so a user-written
`<img src="file:///etc/passwd">` or `<a rel="attachment" href="…">` would end up in the PDF.
Templates refer to static files relative to STATIC_BASE (a reserved .invalid host that is never
contacted); this fetcher maps those few paths to files on disk and refuses every other URL.
"""

import mimetypes
from pathlib import Path

from django.conf import settings
from weasyprint.urls import URLFetcher, URLFetcherResponse

# A base URL for the PDF's HTML. ".invalid" is reserved (RFC 2606): it can never resolve.
STATIC_BASE = "https://egov-assess.invalid/"

# Relative URL (as written in templates/assessments/pdf/) → file on disk.
ALLOWED_STATIC = {
    "static/css/pdf.css": Path(settings.BASE_DIR) / "static" / "css" / "pdf.css",
}


class RefusedURL(ValueError):
    """A URL outside the allow-list; WeasyPrint logs it and renders without the resource."""


class StaticOnlyFetcher(URLFetcher):
    """Serve ALLOWED_STATIC from disk; refuse file://, http(s)://, data: and everything else."""

    def __init__(self) -> None:
        super().__init__(allowed_protocols=(), allow_redirects=False, timeout=1)

    def fetch(self, url: str, headers=None) -> URLFetcherResponse:
        if not url.startswith(STATIC_BASE):
            raise RefusedURL(f"refused by the PDF fetcher: {url[:80]}")
        relative = url[len(STATIC_BASE) :].split("?", 1)[0].split("#", 1)[0]
        path = ALLOWED_STATIC.get(relative)
        if path is None:
            raise RefusedURL(f"not in the PDF allow-list: {relative[:80]}")
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(
            url, body=path.read_bytes(), headers={"Content-Type": content_type}
        )
