"""PDF report for the patient's record: identifiers, consent, each photo large with its facts.

The JPEGs are embedded as they are (reportlab passes JPEG data straight into a DCTDecode
stream), so the SHA-256 printed under each photo is the hash of the bytes inside the PDF; a
CMYK JPEG, which PDF/A's sRGB output intent cannot carry, is drawn from its decoded RGB pixels
instead, losslessly (its hash is then that of the vault's JPEG).
EXIF orientation is applied by the drawing transform, not by re-encoding.
Optional password protection uses AES-256 (PDF 2.0 security handler, revision 6) via pikepdf.
"""

from __future__ import annotations

import datetime as dt
import io
import secrets
from pathlib import Path
from xml.sax.saxutils import escape

import pikepdf
from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFError, TTFont
from reportlab.pdfgen import canvas as rl_canvas
from reportlab.platypus import (
    Flowable,
    Image,
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from picsafe_desktop import APP_NAME, __version__
from picsafe_desktop.export import anatomy, colour, jpeg, order_context
from picsafe_desktop.export.consent_gate import gate
from picsafe_desktop.export.types import ExportBatch, ExportError, ExportPhoto

# JPEG streams are binary-safe in PDF; ASCII85 would only make every photo 25 % bigger.
rl_config.useA85 = 0

_MARGIN = 18 * mm
_HEADER_GAP = 14 * mm
_CAPTION_ROOM = 62 * mm  # space kept below each photo for its caption table


# -- fonts -------------------------------------------------------------------------------------
# Helvetica only covers Latin-1; patient names are often outside it. The package carries DejaVu
# Sans (Latin, Greek, Cyrillic, Armenian, Georgian, Hebrew and Arabic letters; from Debian's
# fonts-dejavu-core, free licence in resources/fonts/), so every install prints the same; a
# system font is the fallback for a checkout without it, Helvetica the last resort.
_BUNDLED_FONT = Path(__file__).resolve().parents[1] / "resources" / "fonts" / "DejaVuSans.ttf"
_FONT_CANDIDATES = (
    str(_BUNDLED_FONT),
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "C:/Windows/Fonts/arial.ttf",
    "/System/Library/Fonts/Supplemental/Arial.ttf",
)


def _fonts() -> tuple[str, str]:
    if "PicSafeSans" in pdfmetrics.getRegisteredFontNames():
        return "PicSafeSans", "PicSafeSans-Bold"
    for regular in _FONT_CANDIDATES:
        path = Path(regular)
        bold = path.with_name(path.stem + "-Bold" + path.suffix)
        if path.name == "arial.ttf":
            bold = path.with_name("arialbd.ttf")
        elif path.name == "Arial.ttf":
            bold = path.with_name("Arial Bold.ttf")
        if path.is_file() and bold.is_file():
            pdfmetrics.registerFont(TTFont("PicSafeSans", str(path)))
            pdfmetrics.registerFont(TTFont("PicSafeSans-Bold", str(bold)))
            return "PicSafeSans", "PicSafeSans-Bold"
    return "Helvetica", "Helvetica-Bold"


# DejaVu Sans has no Chinese, Japanese or Korean letters: a name like "王小明" printed as
# invisible glyph 0 (half the patient's name gone from the banner of every page, and not
# PDF/A). Such characters are printed in a CJK font of the system (Debian: fonts-droid-fallback;
# Windows: Microsoft YaHei); a character no font here can print refuses the report.
FALLBACK_FONT = "PicSafeFallback"
_FALLBACK_CANDIDATES = (
    ("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf", 0),
    ("C:/Windows/Fonts/msyh.ttc", 0),
    ("/System/Library/Fonts/STHeiti Light.ttc", 0),
)


def _fallback_font() -> str | None:
    if FALLBACK_FONT in pdfmetrics.getRegisteredFontNames():
        return FALLBACK_FONT
    for path, index in _FALLBACK_CANDIDATES:
        if not Path(path).is_file():
            continue
        try:
            pdfmetrics.registerFont(TTFont(FALLBACK_FONT, path, subfontIndex=index))
        except (OSError, TTFError):
            continue
        return FALLBACK_FONT
    return None


def _prints(font: str, char: str) -> bool:
    if char.isspace():
        return True
    face = getattr(pdfmetrics.getFont(font), "face", None)
    if face is None:  # a standard font (Helvetica): Latin-1
        return ord(char) < 256
    return ord(char) in face.charToGlyph


def text_runs(text: str, font: str) -> list[tuple[str, str]]:
    """`text` as (font, part) runs: what `font` lacks goes to the fallback font; a character
    neither prints is refused (fail closed: never a silently shortened name)."""
    runs: list[tuple[str, str]] = []
    for char in text:
        use = font
        if not _prints(font, char):
            fallback = _fallback_font()
            if fallback is None or not _prints(fallback, char):
                raise ExportError(
                    f"the PDF cannot print {char!r} (U+{ord(char):04X}, in {text!r}) with the "
                    "fonts of this computer; ask IT to install a font that has it (Debian: "
                    "fonts-droid-fallback), or export without the PDF"
                )
            use = fallback
        if runs and runs[-1][0] == use:
            runs[-1] = (use, runs[-1][1] + char)
        else:
            runs.append((use, char))
    return runs


def _markup(text: str, font: str) -> str:
    return "".join(
        escape(part) if use == font else f'<font name="{use}">{escape(part)}</font>'
        for use, part in text_runs(text, font)
    )


def _draw(canvas, x: float, y: float, text: str, align: str = "left") -> None:  # noqa: ANN001
    """drawString/drawRightString/drawCentredString, run by run in the fonts that print them."""
    font, size = canvas._fontname, canvas._fontsize  # noqa: SLF001 - the current font
    runs = text_runs(text, font)
    width = sum(pdfmetrics.stringWidth(part, use, size) for use, part in runs)
    x -= {"left": 0, "right": width, "centre": width / 2}[align]
    for use, part in runs:
        canvas.setFont(use, size)
        canvas.drawString(x, y, part)
        x += pdfmetrics.stringWidth(part, use, size)
    canvas.setFont(font, size)


def _styles() -> dict[str, ParagraphStyle]:
    regular, bold = _fonts()
    base = getSampleStyleSheet()
    return {
        "title": ParagraphStyle(
            "t", parent=base["Title"], fontName=bold, fontSize=17, spaceAfter=2 * mm, alignment=0
        ),
        "h2": ParagraphStyle(
            "h2",
            parent=base["Heading2"],
            fontName=bold,
            fontSize=12,
            spaceBefore=5 * mm,
            spaceAfter=2 * mm,
            textColor=colors.HexColor("#1f3a5f"),
        ),
        "body": ParagraphStyle(
            "b", parent=base["BodyText"], fontName=regular, fontSize=9.5, leading=12
        ),
        "label": ParagraphStyle(
            "l",
            parent=base["BodyText"],
            fontName=bold,
            fontSize=9,
            leading=11.5,
            textColor=colors.HexColor("#333333"),
        ),
        "cell": ParagraphStyle(
            "c", parent=base["BodyText"], fontName=regular, fontSize=9, leading=11.5
        ),
        "mono": ParagraphStyle(  # the embedded font: PDF/A allows no unembedded Courier
            "m", parent=base["BodyText"], fontName=regular, fontSize=7.5, leading=9.5
        ),
        "notice": ParagraphStyle(
            "n",
            parent=base["BodyText"],
            fontName=bold,
            fontSize=9.5,
            leading=12,
            textColor=colors.HexColor("#8a1c1c"),
        ),
    }


# -- formatting helpers ------------------------------------------------------------------------


def _date(value: dt.date | dt.datetime | None, deidentified: bool, *, time: bool = True) -> str:
    if value is None:
        return "not recorded"
    if deidentified:
        return f"{value.year} (full date withheld)"
    if isinstance(value, dt.datetime):
        if not time:
            return value.strftime("%d %b %Y")
        text = value.strftime("%d %b %Y %H:%M")
        return text + (value.strftime(" %Z") if value.tzinfo else " (local time)")
    return value.strftime("%d %b %Y")


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(_markup(text, style.fontName), style)


def _kv_table(
    rows: list[tuple[str, str]],
    st: dict[str, ParagraphStyle],
    widths: tuple[float, float] = (45 * mm, 129 * mm),
) -> Table:
    data = [[_p(k, st["label"]), _p(v or "—", st["cell"])] for k, v in rows]
    table = Table(data, colWidths=list(widths), hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#eef2f7")),
                ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#b8c2cc")),
                ("TOPPADDING", (0, 0), (-1, -1), 2.5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
            ]
        )
    )
    return table


# -- the photo flowable ------------------------------------------------------------------------


class _OrientedJpeg(Flowable):
    """Draws JPEG bytes unchanged, turned/mirrored as their EXIF Orientation says."""

    def __init__(self, data: bytes, info: jpeg.JpegInfo, max_w: float, max_h: float) -> None:
        super().__init__()
        if info.components == 4:  # CMYK/YCCK: PDF/A's sRGB output intent cannot carry it
            # drawn from the decoded pixels, Flate (lossless): no second JPEG generation
            rgb = colour.decode_rgb(data, info.icc_profile, "photo")
            self._reader = ImageReader(rgb.image())
        else:
            self._reader = ImageReader(io.BytesIO(data))
        self._o = info.orientation
        swapped = self._o in (5, 6, 7, 8)
        shown_w, shown_h = (info.height, info.width) if swapped else (info.width, info.height)
        scale = min(max_w / shown_w, max_h / shown_h)
        self.width, self.height = shown_w * scale, shown_h * scale
        # size of the stored (unturned) picture on the page
        self._w, self._h = (self.height, self.width) if swapped else (self.width, self.height)

    def wrap(self, avail_w: float, avail_h: float) -> tuple[float, float]:
        return self.width, self.height

    def draw(self) -> None:
        c, o, w_shown, h_shown = self.canv, self._o, self.width, self.height
        c.saveState()
        if o in (3, 4):
            c.translate(w_shown, h_shown)
            c.rotate(180)
        elif o in (6, 7):  # stored picture must turn 90° clockwise
            c.translate(0, h_shown)
            c.rotate(-90)
        elif o in (5, 8):  # 90° anticlockwise
            c.translate(w_shown, 0)
            c.rotate(90)
        if o in (2, 4, 5, 7):  # mirrored variants: flip the stored picture left-right
            c.translate(self._w, 0)
            c.scale(-1, 1)
        c.drawImage(self._reader, 0, 0, self._w, self._h)
        c.restoreState()
        c.setStrokeColor(colors.HexColor("#8c96a0"))
        c.setLineWidth(0.5)
        c.rect(0, 0, w_shown, h_shown)


# -- page furniture: header, footer with "page x of y" -----------------------------------------


def _numbered_canvas(
    header: str,
    report_id: str,
    font: str,
    marking: str = "CONFIDENTIAL — patient record",
    patient_line: str = "",
) -> type[rl_canvas.Canvas]:
    class NumberedCanvas(rl_canvas.Canvas):
        """Remembers each page so the footer can say 'page x of y' once y is known."""

        def __init__(self, *args, **kwargs) -> None:
            # reportlab starts every page in Helvetica, which is never embedded (not PDF/A)
            kwargs.setdefault("initialFontName", font)
            super().__init__(*args, **kwargs)
            self._pages: list[dict] = []

        def showPage(self) -> None:  # noqa: N802 - reportlab's name
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            for state in self._pages:
                self.__dict__.update(state)
                self._furniture(total)
                super().showPage()
            super().save()

        def _furniture(self, total: int) -> None:
            width, height = A4
            self.saveState()
            self.setFont(font, 8.5)
            self.setFillColor(colors.HexColor("#1f3a5f"))
            top = height - _MARGIN + (8 * mm if patient_line else 4 * mm)
            _draw(self, _MARGIN, top, header)
            _draw(self, width - _MARGIN, top, marking, "right")
            if patient_line:  # who this page is about, on every page (pages get separated)
                self.setFont(_bold_of(font), 9)
                _draw(self, _MARGIN, height - _MARGIN + 3.6 * mm, patient_line)
                self.setFont(font, 8.5)
            self.setStrokeColor(colors.HexColor("#1f3a5f"))
            self.line(
                _MARGIN, height - _MARGIN + 2.5 * mm, width - _MARGIN, height - _MARGIN + 2.5 * mm
            )
            self.line(_MARGIN, _MARGIN - 3 * mm, width - _MARGIN, _MARGIN - 3 * mm)
            self.setFillColor(colors.HexColor("#444444"))
            _draw(self, _MARGIN, _MARGIN - 7 * mm, f"Report {report_id}")
            _draw(self, width / 2, _MARGIN - 7 * mm, f"{APP_NAME} {__version__}", "centre")
            _draw(
                self,
                width - _MARGIN,
                _MARGIN - 7 * mm,
                f"Page {self._pageNumber} of {total}",
                "right",
            )
            self.restoreState()

    return NumberedCanvas


# -- report sections ---------------------------------------------------------------------------


def _patient_section(batch: ExportBatch, st: dict) -> list:
    patient = batch.consent.patient
    if batch.deidentified:
        rows = [
            ("Pseudonym", patient.mrn),
            ("Identifiers", f"removed for {batch.use.value} use"),
        ]
    else:
        rows = [
            ("Name", patient.name or "not recorded"),
            ("MRN", patient.mrn),
            ("Date of birth", _date(patient.birth_date, False)),
        ]
    rows += order_context.pdf_rows(batch.consent, deidentified=batch.deidentified)  # issue 16
    return [_p("Patient", st["h2"]), _kv_table(rows, st)]


def _report_section(batch: ExportBatch, st: dict) -> list:
    staff = batch.staff
    rows = [
        ("Report id", batch.report_id),
        # a de-identified copy is a new object: the vault's ids would link it to the record
        ("Import batch", "withheld" if batch.deidentified else batch.batch_id),
        ("Exported by", ", ".join(x for x in (staff.name, staff.role, staff.staff_id) if x)),
        ("Exported at", _date(batch.created_at.astimezone(dt.UTC), False)),
        ("Purpose", batch.use.value),
        ("Photos", str(len(batch.photos))),
    ]
    return [_p("Report", st["h2"]), _kv_table(screen_rows(rows, batch), st)]


def consent_flowables(batch: ExportBatch, st: dict) -> list:
    consent = batch.consent
    obtained = consent.obtained_by
    rows = [
        ("Decision", consent.decision),
        ("Allowed uses", ", ".join(sorted(u.value for u in consent.uses)) or "none"),
        ("Capacity", consent.capacity.value.replace("_", " ")),
        ("Method", consent.method.value),
        ("Obtained by", ", ".join(x for x in (obtained.name, obtained.role) if x)),
        ("Obtained at", _date(consent.obtained_at, batch.deidentified)),
    ]
    if consent.substitute is not None:
        rows.append(
            ("Consent given by", f"{consent.substitute.name} ({consent.substitute.relationship})")
        )
    if consent.witness_name:
        rows.append(("Witness", consent.witness_name))
    rows += [
        ("Indication", consent.indication),
        ("Body site", consent.body_site),
    ]
    if consent.publication:
        rows.append(("Publication", consent.publication))
    rows += governance_rows(consent, batch.deidentified)
    rows.append(("Consent wording", consent.wording_version or "not recorded"))
    flow: list = [_p("Consent", st["h2"]), _kv_table(screen_rows(rows, batch), st)]
    if consent.wording_sha256:
        flow.append(Spacer(1, 1 * mm))
        flow.append(_p(f"Wording SHA-256: {consent.wording_sha256}", st["mono"]))
    if consent.signature_png:
        try:
            reader = ImageReader(io.BytesIO(consent.signature_png))
            sw, sh = reader.getSize()
        except Exception as exc:  # noqa: BLE001 - any decoder failure means a bad signature
            raise ExportError("the consent signature image cannot be read") from exc
        scale = min(70 * mm / sw, 28 * mm / sh)
        sig = Image(
            io.BytesIO(_opaque_png(consent.signature_png)), width=sw * scale, height=sh * scale
        )
        box = Table([[_p("Signature", st["label"])], [sig]], hAlign="LEFT")
        box.setStyle(
            TableStyle(
                [
                    ("BOX", (0, 0), (-1, -1), 0.6, colors.HexColor("#8c96a0")),
                    ("TOPPADDING", (0, 0), (-1, -1), 3),
                ]
            )
        )
        flow += [Spacer(1, 3 * mm), KeepTogether([box])]
    elif batch.deidentified:
        flow += [Spacer(1, 2 * mm), _p("Signature withheld from de-identified copies.", st["body"])]
    return flow + wording_flowables(consent, st)


# -- consent governance content (issue 15): decision, extra fields, wording, screening ----------

_IDS_AND_DATES = ("Import batch", "Photo id", "Report id")


def screen_rows(rows: list[tuple[str, str]], batch: ExportBatch) -> list[tuple[str, str]]:
    """De-identified copies carry no batch or photo ids and no full dates (the year only)."""
    if not batch.deidentified:
        return rows
    screened = []
    for label, value in rows:
        if label in _IDS_AND_DATES:
            continue
        if label == "Exported at":
            value = _date(batch.created_at, True)
        screened.append((label, value))
    return screened


def _answer(value: str) -> str:
    return value.replace("_", " ")


def governance_rows(consent, deidentified: bool) -> list[tuple[str, str]]:
    """Issue 15's consent fields, as far as a copy of this kind may show them."""
    rows = [
        ("Identifiability", _answer(consent.identifiability.value) + " (each photo: see below)"),
        ("Identifiable publication", "agreed" if consent.identifiable_publication else "no"),
    ]
    if consent.withdrawn is not None:
        rows.append(("Withdrawn", consent.withdrawn.value))
    if deidentified:
        return rows  # names, dates and free text were removed by the consent gate
    rows.append(("Consent obtained at", _date(consent.consented_at, False)))
    rows.append(("Keyed in at", _date(consent.obtained_at, False)))
    if consent.signed_by is not None:
        rows.append(("Signed by", consent.signed_by.value))
    if consent.photographer:
        rows.append(("Photographer", consent.photographer))
    child = consent.child
    if child is not None:
        if child.competence is not None:
            c = child.competence
            rows.append(
                (
                    "Competence (Gillick)",
                    f"{'competent' if c.competent else 'not competent'}, assessed by "
                    f"{c.assessed_by}; parents: {c.parental_involvement}",
                )
            )
        if child.assent is not None:
            rows.append(("Child's view", _answer(child.assent.value)))
        if child.urgent:
            rows.append(("Urgent", "photographed urgently despite the child's objection"))
    if consent.substitute is not None and consent.substitute.parental_responsibility:
        rows.append(("Parental responsibility", "confirmed"))
    if consent.review_on is not None:
        rows.append(("Review consent on", _date(consent.review_on, False)))
    if consent.interpreter is not None:
        i = consent.interpreter
        rows.append(("Interpreter", f"{i.name}, {i.language} ({i.kind.value})"))
    if consent.intimate is not None:
        m = consent.intimate
        chaperone = ", ".join(x for x in (m.chaperone_name, m.chaperone_role) if x) or "none"
        rows.append(
            ("Intimate images", f"chaperone: {chaperone}; preference: {_answer(m.preference)}")
        )
    if consent.amends:
        rows.append(("Amends consent", f"{consent.amends} ({consent.amendment_reason})"))
    return rows


def photo_governance_rows(photo: ExportPhoto) -> list[tuple[str, str]]:
    answer = _answer(photo.identifiability.value)
    if photo.redacted:
        answer += " (redacted version)"
    elif photo.identifiability_confirmed:
        answer += " (confirmed by a clinician)"
    rows = [("Identifiability", answer)]
    if photo.taken_before_consent:
        rows.append(("Consent", "photo taken BEFORE the recorded bedside consent time"))
    return rows


def wording_flowables(consent, st: dict) -> list:
    """The wording the patient was shown, in full, so the report proves what was agreed."""
    if not consent.wording_text:
        return []
    flow: list = [_p(f"Consent wording shown ({consent.wording_version})", st["h2"])]
    for paragraph in consent.wording_text.split("\n\n"):
        if paragraph.strip():
            flow.append(_p(" ".join(paragraph.split()), st["body"]))
            flow.append(Spacer(1, 1.5 * mm))
    return flow


def _photo_page(
    photo: ExportPhoto, index: int, batch: ExportBatch, st: dict, frame_w: float, frame_h: float
) -> list:
    info = jpeg.read_info(photo.jpeg, f"photo {index}")
    image = _OrientedJpeg(photo.jpeg, info, frame_w, frame_h - _CAPTION_ROOM)
    image.hAlign = "CENTER"
    clinician = batch.consent.obtained_by.name
    site, side = site_caption(photo, batch.consent.body_site)
    rows = [
        ("Body site", site),
        ("Side", side),
        ("Captured", _date(photo.facts.capture_time, batch.deidentified)),
        ("Clinician", clinician),
        ("Photo id", f"{index} of this copy" if batch.deidentified else photo.item_id),
        ("Size", f"{_shown_size(info)} px, {len(photo.jpeg):,} bytes"),
    ]
    rows += photo_governance_rows(photo)
    caption = _kv_table(screen_rows(rows, batch), st, widths=(30 * mm, 144 * mm))
    return [
        _p(f"Photo {index} of {len(batch.photos)}", st["h2"]),
        image,
        Spacer(1, 3 * mm),
        caption,
        Spacer(1, 1.5 * mm),
        _p(f"SHA-256 {photo.sha256}", st["mono"]),
    ]


def site_caption(photo: ExportPhoto, consent_site: str) -> tuple[str, str]:
    """(body site, side) for a photo's caption: the coded site with its SNOMED CT code when
    known (the ward's pick, or the free text matched), and the side in words."""
    site = anatomy.resolve(photo.site, photo.body_site or consent_site)
    if site is None:
        return "not recorded", "not recorded"
    words = site.text
    if site.coded and site.meaning.lower() not in words.lower():
        words = f"{words} — {site.meaning}"
    if site.coded:
        words += f" (SNOMED CT {site.code})"
    side = {"L": "left", "R": "right", "B": "both sides"}.get(
        site.laterality[2] if site.laterality else "", "not stated"
    )
    return words, side


def _shown_size(info) -> str:
    """Width × height as the photo is shown (upright), not as stored sideways."""
    if info.orientation in (5, 6, 7, 8):
        return f"{info.height} × {info.width}"
    return f"{info.width} × {info.height}"


def _marking(batch: ExportBatch) -> str:
    if batch.deidentified:
        return f"DE-IDENTIFIED — {batch.use.value} copy"
    return "CONFIDENTIAL — patient record"


# -- page header with the patient's identifiers ------------------------------------------------


def _bold_of(font: str) -> str:
    return "PicSafeSans-Bold" if font == "PicSafeSans" else "Helvetica-Bold"


def patient_header(batch: ExportBatch) -> str:
    """The line naming the patient at the top of every page: name, MRN and date of birth
    (a printed page that strays from its report still says whose it is). De-identified
    copies carry their pseudonym only."""
    patient = batch.consent.patient
    if batch.deidentified:
        return f"Pseudonym {patient.mrn} — identifiers removed"
    born = patient.birth_date.strftime("%d %b %Y") if patient.birth_date else "not recorded"
    line = f"{patient.name or 'Name not recorded'} · MRN {patient.mrn} · Born {born}"
    if order_context.not_checked(batch.consent):  # issue 16: on every page, not only page 1
        line += " · IDENTITY NOT CHECKED"
    return line


# -- PDF/A-2b ------------------------------------------------------------------------------------

_PDFA_XMP_NS = "http://www.aiim.org/pdfa/ns/id/"


def _xmp_date(value: object) -> str:
    """PDF date 'D:20250506104200+00'00' -> XMP '2025-05-06T10:42:00+00:00'."""
    text = str(value)[2:]
    stamp = f"{text[0:4]}-{text[4:6]}-{text[6:8]}T{text[8:10]}:{text[10:12]}:{text[12:14]}"
    zone = text[14:].replace("'", "")
    if zone in ("", "Z"):
        return stamp + "Z"
    return f"{stamp}{zone[:3]}:{zone[3:5] or '00'}"


def _xmp(info: pikepdf.Dictionary) -> bytes:
    """XMP packet mirroring the document info (as PDF/A requires) plus the PDF/A-2B id."""

    def text(key: str) -> str:
        return escape(str(info.get(key, "")))

    packet = f"""<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:pdf="http://ns.adobe.com/pdf/1.3/"
    xmlns:xmp="http://ns.adobe.com/xap/1.0/"
    xmlns:pdfaid="{_PDFA_XMP_NS}">
   <dc:format>application/pdf</dc:format>
   <dc:title><rdf:Alt><rdf:li xml:lang="x-default">{text("/Title")}</rdf:li></rdf:Alt></dc:title>
   <dc:creator><rdf:Seq><rdf:li>{text("/Author")}</rdf:li></rdf:Seq></dc:creator>
   <dc:description><rdf:Alt>
    <rdf:li xml:lang="x-default">{text("/Subject")}</rdf:li>
   </rdf:Alt></dc:description>
   <pdf:Keywords>{text("/Keywords")}</pdf:Keywords>
   <pdf:Producer>{text("/Producer")}</pdf:Producer>
   <xmp:CreatorTool>{text("/Creator")}</xmp:CreatorTool>
   <xmp:CreateDate>{_xmp_date(info.get("/CreationDate", ""))}</xmp:CreateDate>
   <xmp:ModifyDate>{_xmp_date(info.get("/ModDate", ""))}</xmp:ModifyDate>
   <pdfaid:part>2</pdfaid:part>
   <pdfaid:conformance>B</pdfaid:conformance>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>"""
    return packet.encode("utf-8")


def _srgb_profile() -> bytes:
    from PIL import ImageCms

    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def to_pdfa(data: bytes) -> bytes:
    """Make reportlab's PDF a PDF/A-2b file: an sRGB output intent (reportlab draws in
    DeviceRGB/DeviceGray), XMP metadata matching the document info with the PDF/A-2B
    identification, and qpdf's rewrite (EOL before `endstream`, a trailer ID). Fonts are
    embedded already (the TTF, initial font included) and transparency is flattened before.
    Without an embeddable TrueType font on this computer the file stays a plain PDF."""
    if "PicSafeSans" not in pdfmetrics.getRegisteredFontNames():
        return data
    with pikepdf.open(io.BytesIO(data)) as doc:
        icc = pikepdf.Stream(doc, _srgb_profile())
        icc["/N"] = 3
        doc.Root.OutputIntents = pikepdf.Array(
            [
                pikepdf.Dictionary(
                    Type=pikepdf.Name.OutputIntent,
                    S=pikepdf.Name.GTS_PDFA1,
                    OutputConditionIdentifier="sRGB IEC61966-2.1",
                    RegistryName="http://www.color.org",
                    Info="sRGB IEC61966-2.1",
                    DestOutputProfile=icc,
                )
            ]
        )
        if "/Trapped" in doc.docinfo:
            del doc.docinfo["/Trapped"]  # no XMP equivalent; PDF/A wants the two to agree
        doc.Root.Metadata = pikepdf.Stream(doc, _xmp(doc.docinfo))
        doc.Root.Metadata.Type = pikepdf.Name.Metadata
        doc.Root.Metadata.Subtype = pikepdf.Name.XML
        out = io.BytesIO()
        # 1.7: PDF/A-2 is based on it (and its ICC v4 output profile)
        doc.save(out, deterministic_id=True, min_version="1.7")
    return out.getvalue()


def _opaque_png(data: bytes) -> bytes:
    """A signature drawn on white without an alpha channel: no soft mask in the PDF, which
    keeps the file within the strictest PDF/A (and any validator) rules."""
    from PIL import Image as PILImage

    with PILImage.open(io.BytesIO(data)) as img:
        img.load()
        if img.mode not in ("RGBA", "LA", "P"):
            return data
        rgba = img.convert("RGBA")
    flat = PILImage.new("RGB", rgba.size, (255, 255, 255))
    flat.paste(rgba, mask=rgba.getchannel("A"))
    out = io.BytesIO()
    flat.save(out, "PNG")
    return out.getvalue()


# -- public API --------------------------------------------------------------------------------


def render_report(batch: ExportBatch, *, site_name: str = "", password: str | None = None) -> bytes:
    """Build the report PDF in memory. The consent gate runs first (fails closed)."""
    batch = gate(batch)
    st = _styles()
    regular, _ = _fonts()
    out = io.BytesIO()
    title = "Clinical photography report"
    header = f"{site_name} — {title}" if site_name else title
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=_MARGIN,
        rightMargin=_MARGIN,
        topMargin=_MARGIN + _HEADER_GAP / 2,
        bottomMargin=_MARGIN + 2 * mm,
        title=title,
        author=APP_NAME,
        subject=f"Report {batch.report_id}",
        creator=f"{APP_NAME} {__version__}",
    )
    story: list = [_p(title, st["title"])]
    if batch.deidentified:
        story.append(
            _p(
                f"De-identified copy for {batch.use.value}: patient identifiers, "
                "dates and signature removed.",
                st["notice"],
            )
        )
    story += _patient_section(batch, st) + _report_section(batch, st)
    story += consent_flowables(batch, st)
    for index, photo in enumerate(batch.photos, start=1):
        story.append(PageBreak())
        story += _photo_page(photo, index, batch, st, doc.width, doc.height)
    canvas = _numbered_canvas(
        header, batch.report_id, regular, _marking(batch), patient_header(batch)
    )
    doc.build(story, canvasmaker=canvas)
    data = to_pdfa(out.getvalue())
    # PDF/A forbids encryption: a password-protected copy is a plain PDF 2.0-security file
    return encrypt(data, password) if password else data


def render_consent(batch: ExportBatch) -> bytes:
    """A one-section PDF of the consent alone (the FHIR Consent's source attachment)."""
    batch = gate(batch)
    st = _styles()
    regular, _ = _fonts()
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=_MARGIN,
        rightMargin=_MARGIN,
        topMargin=_MARGIN + _HEADER_GAP / 2,
        bottomMargin=_MARGIN + 2 * mm,
        title="Consent to clinical photography",
        author=APP_NAME,
    )
    story = [_p("Consent to clinical photography", st["title"])]
    story += _patient_section(batch, st) + consent_flowables(batch, st)
    canvas = _numbered_canvas(
        "Consent record", batch.report_id, regular, _marking(batch), patient_header(batch)
    )
    doc.build(story, canvasmaker=canvas)
    return to_pdfa(out.getvalue())


def encrypt(pdf: bytes, password: str) -> bytes:
    """Return `pdf` encrypted with AES-256 (R6); `password` opens it in any PDF reader."""
    if not password:
        raise ExportError("a PDF password must not be empty")
    owner = secrets.token_urlsafe(24)  # nobody needs owner rights on an exported copy
    out = io.BytesIO()
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        doc.save(out, encryption=pikepdf.Encryption(owner=owner, user=password, R=6, aes=True))
    return out.getvalue()
