"""PDF report: rendered by poppler, JPEGs embedded unchanged, AES-256 password checked by qpdf."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import re
import subprocess

import pikepdf
import pytest
from PIL import Image

from picsafe_desktop.export import pdf
from picsafe_desktop.model import Use
from tests import export_data as d
from tests.export_tools import pdfbox_preflight, require


def _render(tmp_path, data: bytes, page: int, dpi: int = 50) -> Image.Image:
    src = tmp_path / "in.pdf"
    src.write_bytes(data)
    prefix = tmp_path / f"page{page}"
    subprocess.run(
        [require("pdftoppm"), "-r", str(dpi), "-f", str(page), "-l", str(page), "-png",
         "-singlefile", str(src), str(prefix)],
        check=True, capture_output=True,
    )  # fmt: skip
    return Image.open(f"{prefix}.png").convert("RGB")


def _text(tmp_path, data: bytes) -> str:
    src = tmp_path / "t.pdf"
    src.write_bytes(data)
    return subprocess.run(
        [require("pdftotext"), "-layout", str(src), "-"], check=True, capture_output=True,
        text=True,
    ).stdout  # fmt: skip


def test_report_pages_render_and_carry_the_required_facts(tmp_path):
    batch = d.batch()
    data = pdf.render_report(batch, site_name="St Example Hospital")
    text = _text(tmp_path, data)
    for fact in (
        "Clinical photography report",
        "Zoë Ångström-Test",
        "MRN-4401927",
        "14 Mar 1961",
        "photo-consent-v3",
        "PSR-TEST000001",
        "Page 1 of 4",  # photo pages, consent, and the wording the patient saw (issue 15)
        "Page 4 of 4",
        "left forearm",
        "Dr Priya Natarajan",
        "06 May 2025 10:55",
        "St Example Hospital",
    ):
        assert fact in text, fact
    for photo in batch.photos:
        assert f"SHA-256 {photo.sha256}" in text
    assert _render(tmp_path, data, 1).size[0] > 300


def test_embedded_photos_are_the_exact_jpeg_bytes(tmp_path):
    batch = d.batch()
    with pikepdf.open(io.BytesIO(pdf.render_report(batch))) as doc:
        # a DCTDecode stream's raw data is the JPEG file itself
        streams = [
            img.read_raw_bytes()
            for page in doc.pages
            for img in page.get_images().values()
            if "/DCTDecode" in str(img.Filter)
        ]
    assert len(streams) == len(batch.photos)
    assert {hashlib.sha256(s).hexdigest() for s in streams} == {p.sha256 for p in batch.photos}


def test_exif_orientation_is_applied_without_re_encoding(tmp_path):
    # Synthetic photo: red block top-left, blue bottom-right as stored. Orientation 6 means
    # "turn 90° clockwise to view": red must appear top-right on the page.
    batch = d.batch(photos=[d.photo("o6", d.synthetic_jpeg(600, 400, orientation=6))])
    frame = _render(tmp_path, pdf.render_report(batch), 2, dpi=40)
    red, blue = (200, 30, 30), (30, 60, 200)

    def near(c, ref):
        return sum(abs(a - b) for a, b in zip(c, ref, strict=True)) < 90

    pix = frame.load()
    xs = [x for x in range(frame.width) if near(pix[x, frame.height // 5], red)]
    assert xs, "no red found on the upper part of the photo page"
    assert min(xs) > frame.width / 2, "red block should be on the right after turning"
    ys = [y for y in range(frame.height) if near(pix[int(frame.width * 0.35), y], blue)]
    assert ys and min(ys) > frame.height * 0.4, "blue block should be bottom-left"


def test_teaching_report_has_no_identifiers(tmp_path):
    batch = d.batch(use=Use.TEACHING, uses=(Use.RECORD, Use.TEACHING))
    text = _text(tmp_path, pdf.render_report(batch))
    for secret in ("Zoë", "MRN-4401927", "1961", "Nurse Ada", "10:55", "Signature\n"):
        assert secret not in text
    assert "De-identified copy for teaching" in text and "ANON-" in text
    assert "DE-IDENTIFIED — teaching copy" in text and "patient record" not in text


def test_password_pdf_opens_with_qpdf_only_with_the_password(tmp_path):
    qpdf = require("qpdf")
    locked = tmp_path / "locked.pdf"
    locked.write_bytes(pdf.render_report(d.batch(), password="Tr0ub4dor&3"))
    shown = subprocess.run(
        [qpdf, "--show-encryption", "--password=Tr0ub4dor&3", str(locked)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "R = 6" in shown and "AESv3" in shown  # AES-256, PDF 2.0 security handler
    out = tmp_path / "open.pdf"
    ok = subprocess.run(
        [qpdf, "--password=Tr0ub4dor&3", "--decrypt", str(locked), str(out)],
        capture_output=True,
        text=True,
    )
    assert ok.returncode == 0, ok.stderr
    assert "MRN-4401927" in _text(tmp_path, out.read_bytes())
    bad = subprocess.run(
        [qpdf, "--decrypt", str(locked), str(tmp_path / "no.pdf")], capture_output=True, text=True
    )
    assert bad.returncode != 0 and "password" in bad.stderr.lower()
    wrong = subprocess.run(
        [qpdf, "--password=guess", "--decrypt", str(locked), str(tmp_path / "no2.pdf")],
        capture_output=True,
        text=True,
    )
    assert wrong.returncode != 0
    with pytest.raises(pikepdf.PasswordError):
        pikepdf.open(locked)


@pytest.mark.corpus
def test_report_from_scrubbed_corpus_photos(tmp_path):
    photos = d.scrubbed_corpus_photos()
    batch = d.batch(photos=photos)
    data = pdf.render_report(batch, site_name="St Example Hospital")
    (tmp_path / "corpus-report.pdf").write_bytes(data)
    text = _text(tmp_path, data)
    assert all(p.sha256 in text for p in batch.photos)
    assert "Page 3 of 3" in text


def _pages(tmp_path, data: bytes) -> list[str]:
    return _text(tmp_path, data).split("\f")[:-1]


@pytest.mark.parametrize("kind", ["report", "consent"])
def test_every_page_names_the_patient(tmp_path, kind):
    """Was: the MRN only on page 1; photo pages carried no patient identifiers."""
    batch = d.batch()
    data = pdf.render_report(batch) if kind == "report" else pdf.render_consent(batch)
    pages = _pages(tmp_path, data)
    assert len(pages) >= (3 if kind == "report" else 1)
    for text in pages:
        head = text.strip().splitlines()[:3]
        assert any(
            "Zoë Ångström-Test" in ln and "MRN-4401927" in ln and "14 Mar 1961" in ln for ln in head
        ), head


def test_teaching_pages_name_only_the_pseudonym(tmp_path):
    batch = d.batch(use=Use.TEACHING, uses=(Use.RECORD, Use.TEACHING))
    pages = _pages(tmp_path, pdf.render_report(batch))
    pseudonyms = set()
    for text in pages:
        assert "MRN-4401927" not in text and "Ångström" not in text
        (line,) = [ln for ln in text.splitlines()[:3] if "Pseudonym ANON-" in ln]
        pseudonyms.add(line.split()[1])
    assert len(pseudonyms) == 1


@pytest.mark.parametrize("use", [Use.RECORD, Use.TEACHING])
def test_report_is_pdfa_2b_by_the_validator_available_here(tmp_path, use):
    """Was: not PDF/A. Checked by PDFBox Preflight (PDF/A-1b rules, see export_tools)."""
    batch = d.batch(use=use, uses=(Use.RECORD, Use.TEACHING))
    files = {"report": pdf.render_report(batch), "consent": pdf.render_consent(batch)}
    for name, data in files.items():
        path = tmp_path / f"{name}.pdf"
        path.write_bytes(data)
        assert pdfbox_preflight(path) == [], name
        with pikepdf.open(path) as doc:
            meta = doc.open_metadata()
            assert (meta["pdfaid:part"], meta["pdfaid:conformance"]) == ("2", "B")
            (intent,) = doc.Root.OutputIntents
            assert intent.S == "/GTS_PDFA1" and intent.DestOutputProfile.read_bytes()[36:40] == (
                b"acsp"
            )


def test_captions_name_the_body_site_and_side(tmp_path):
    coded = {"code": "40983000", "display": "Upper arm", "laterality": "right", "text": ""}
    photos = [
        d.photo("a", d.synthetic_jpeg()),  # free text "left forearm"
        dataclasses.replace(d.photo("b", d.synthetic_jpeg()), site=coded),  # the ward's code
    ]
    pages = _pages(tmp_path, pdf.render_report(d.batch(photos=photos)))
    first, second = pages[-2], pages[-1]
    assert "left forearm (SNOMED CT 14975008)" in first
    assert re.search(r"Side\s+left", first)
    assert "right upper arm (SNOMED CT 40983000)" in second
    assert re.search(r"Side\s+right", second)


def test_teaching_report_names_no_vault_ids(tmp_path):
    """A teaching copy is a new object: the record's batch and photo ids would link it back."""
    batch = d.batch(use=Use.TEACHING, uses=(Use.RECORD, Use.TEACHING))
    text = _text(tmp_path, pdf.render_report(batch))
    for vault_id in (batch.batch_id, *(p.item_id for p in batch.photos)):
        assert vault_id not in text
