"""HTML to PDF with WeasyPrint, reading nothing but the platform's own static files.

The document is drawn from the database's text, which anyone in the operation may
have typed: WeasyPrint must not follow a link to the network or the file system.
Its fetcher answers URLs under STATIC_URL from the static files and refuses the rest.
"""

from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage

# Relative URLs resolve against this made-up origin; nothing is ever fetched from it.
BASE_URL = "https://cencomm.invalid/"
CONTENT_TYPES = {".css": "text/css", ".svg": "image/svg+xml", ".png": "image/png"}


def _static_file(name: str) -> Path | None:
    if ".." in Path(name).parts:
        return None
    try:
        collected = Path(staticfiles_storage.path(name))
    except (NotImplementedError, ValueError):
        collected = None
    if collected is not None and collected.is_file():
        return collected
    found = finders.find(name)
    return Path(found) if found else None


def static_file_for(url: str) -> tuple[Path, str]:
    """The static file a URL names, and its content type; ValueError for any other URL."""
    parts = urlsplit(url)
    static_prefix = urlsplit(settings.STATIC_URL).path
    path = None
    if f"{parts.scheme}://{parts.netloc}/" == BASE_URL and parts.path.startswith(static_prefix):
        path = _static_file(unquote(parts.path.removeprefix(static_prefix)))
    content_type = CONTENT_TYPES.get(path.suffix) if path else None
    if content_type is None:
        raise ValueError(f"not one of the platform's static files: {url}")
    return path, content_type


def html_to_pdf(html: str) -> bytes:
    # Imported here: WeasyPrint loads Pango when imported, and the rest of the platform
    # runs without it.
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class StaticFilesFetcher(URLFetcher):
        def fetch(self, url, headers=None):
            path, content_type = static_file_for(url)
            return URLFetcherResponse(
                url, path.read_bytes(), headers={"Content-Type": content_type}
            )

    return HTML(string=html, base_url=BASE_URL, url_fetcher=StaticFilesFetcher()).write_pdf()
