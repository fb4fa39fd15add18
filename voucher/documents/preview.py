"""An uploaded material shown in the page, rendered on the server: the pages of a PDF as PNG
pictures (pdfium), a JPG or PNG picture decoded and encoded again (Pillow). The browser gets
pictures only, never the applicant's file: no script, form or font of it runs in the bureau's
pages. The first MAX_PAGES pages are shown, at most MAX_PIXELS each.
"""

from __future__ import annotations

import base64
import io
import math
import threading
from dataclasses import dataclass, field

MAX_PAGES = 20
WIDTH = 1000  # pixels across a page: A4 text stays legible at 100 %
MAX_SCALE = 3.0  # a very small page is not blown up beyond this
MAX_PIXELS = 6_000_000  # per page or picture, whatever its declared size
PDF_TYPES = frozenset({"application/pdf"})
IMAGE_TYPES = frozenset({"image/jpeg", "image/png"})

# pdfium is not thread-safe: one rendering at a time in this process
_PDFIUM = threading.Lock()


@dataclass(frozen=True)
class Picture:
    content_type: str
    data: bytes
    width: int
    height: int

    @property
    def data_uri(self) -> str:
        return f"data:{self.content_type};base64,{base64.b64encode(self.data).decode()}"


# Why a file is not shown (the page says it in words): of a kind not shown, a file that cannot
# be read, a page that cannot be rendered (those before it are shown), a picture too large.
NOT_SHOWN = "not_shown"
UNREADABLE = "unreadable"
BROKEN_PAGE = "broken_page"
TOO_LARGE = "too_large"


@dataclass
class Preview:
    """What is shown of a file: its pictures (pages), how many pages it has, and why not more."""

    pictures: list[Picture] = field(default_factory=list)
    pages: int = 0  # of the document (a picture: 1)
    problem: str = ""  # why (not all of) it is shown: one of the codes above

    @property
    def cut(self) -> bool:
        return self.pages > len(self.pictures) and not self.problem


def previewable(content_type: str) -> bool:
    return content_type in PDF_TYPES or content_type in IMAGE_TYPES


def preview(data: bytes, content_type: str, *, max_pages: int = MAX_PAGES) -> Preview:
    """The file as pictures, or the reason it is not shown (another kind, or a broken file)."""
    if content_type in PDF_TYPES:
        return _pdf(data, max_pages)
    if content_type in IMAGE_TYPES:
        return _image(data)
    return Preview(problem=NOT_SHOWN)


def _fit(width: float, height: float) -> float:
    """The scale that renders a page WIDTH pixels across, within MAX_SCALE and MAX_PIXELS."""
    if width <= 0 or height <= 0:
        return 1.0
    scale = min(WIDTH / width, MAX_SCALE)
    if width * height * scale * scale > MAX_PIXELS:
        scale = math.sqrt(MAX_PIXELS / (width * height))
    return scale


def _png(image: object) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")  # type: ignore[attr-defined]
    return out.getvalue()


def _pdf(data: bytes, max_pages: int) -> Preview:
    import pypdfium2 as pdfium

    pictures = []
    with _PDFIUM:
        try:
            document = pdfium.PdfDocument(data)
        except pdfium.PdfiumError:
            return Preview(problem=UNREADABLE)
        try:
            pages = len(document)
            for number in range(min(pages, max_pages)):
                page = document[number]
                try:
                    width, height = page.get_size()
                    if page.get_rotation() in (90, 270):
                        width, height = height, width
                    bitmap = page.render(scale=_fit(width, height))
                    image = bitmap.to_pil()
                    pictures.append(Picture("image/png", _png(image), image.width, image.height))
                finally:
                    page.close()
        except pdfium.PdfiumError:
            return Preview(pictures, pages, BROKEN_PAGE)
        finally:
            document.close()
    return Preview(pictures, pages)


def _image(data: bytes) -> Preview:
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as opened:
            if opened.width * opened.height > MAX_PIXELS * 8:
                return Preview(pages=1, problem=TOO_LARGE)
            jpeg = opened.format == "JPEG"
            image = ImageOps.exif_transpose(opened)
            image.thumbnail((WIDTH * 2, WIDTH * 3))
            if jpeg:  # a photograph stays a JPEG; a screenshot stays a PNG (sharp text)
                out = io.BytesIO()
                image.convert("RGB").save(out, format="JPEG", quality=88)
                picture = Picture("image/jpeg", out.getvalue(), image.width, image.height)
            else:
                if image.mode not in ("RGB", "RGBA", "L", "LA", "P"):
                    image = image.convert("RGBA")
                picture = Picture("image/png", _png(image), image.width, image.height)
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return Preview(pages=1, problem=UNREADABLE)
    return Preview([picture], 1)
