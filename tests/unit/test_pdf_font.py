"""The PDF font travels with the package (issue 18, finding 7): a ward PC without DejaVu (any
Windows PC) prints Greek, Cyrillic, Hebrew and Arabic names, not boxes."""

from __future__ import annotations

from pathlib import Path

from reportlab.pdfbase import pdfmetrics

import picsafe_desktop
from picsafe_desktop.export import pdf

NAMES = "Ζωή Παπαδοπούλου · Ольга Иванова · שרה כהן · مريم حسن · Łucja Żółć"


def test_the_report_font_is_the_packaged_one_and_covers_non_latin_names(monkeypatch):
    package = Path(picsafe_desktop.__file__).parent
    assert (package / "resources" / "fonts" / "DejaVuSans.ttf").is_file()
    assert (package / "resources" / "fonts" / "DejaVuSans-Bold.ttf").is_file()
    regular, bold = pdf._fonts()
    for name in (regular, bold):
        face = pdfmetrics.getFont(name).face
        assert Path(face.filename).resolve().is_relative_to(package.resolve())
        missing = [c for c in NAMES if c not in " ·" and ord(c) not in face.charToGlyph]
        assert missing == []
