"""The patient's own copy of their consent (GMC: patients should be offered a copy).

What they agreed to, in the words they were shown, who recorded it and how to withdraw. It
leaves out everything that is for staff only: staff IDs, PINs, the audit trail, internal ids
other than one short reference to quote, and the signature image.
"""

from __future__ import annotations

import io

from reportlab.lib.pagesizes import A4
from reportlab.platypus import SimpleDocTemplate, Spacer

from picsafe_desktop import APP_NAME
from picsafe_desktop.export import pdf
from picsafe_desktop.model import ConsentRecord, Use

_USES = {
    Use.RECORD: "your health record",
    Use.TEACHING: "teaching healthcare staff (without your name or details)",
    Use.PUBLICATION: "publication",
}


def how_to_withdraw(site_name: str, reference: str) -> str:
    where = site_name or "the hospital"
    return (
        f"You can change your mind at any time. Tell any member of staff at {where} that you "
        f"want to withdraw your consent, and quote the reference {reference}. You can withdraw "
        "teaching and publication only, or everything. Photographs already in your health "
        "record stay part of that record; photographs not yet shared are destroyed, and we "
        "will tell you about any copies already shared for teaching or publication."
    )


def render(record: ConsentRecord, reference: str, *, site_name: str = "") -> bytes:
    st = pdf._styles()
    regular, _ = pdf._fonts()
    out = io.BytesIO()
    title = "Your consent to clinical photography"
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=pdf._MARGIN,
        rightMargin=pdf._MARGIN,
        topMargin=pdf._MARGIN + pdf._HEADER_GAP / 2,
        bottomMargin=pdf._MARGIN,
        title=title,
        author=site_name or APP_NAME,
    )
    uses = [_USES[u] for u in Use if u in record.uses]
    if record.publication:
        uses[-1] += f" in {record.publication}" + (
            ", including photographs that show who you are"
            if record.identifiable_publication
            else ""
        )
    rows = [
        ("Name", record.patient.name or "not recorded"),
        ("Hospital number", record.patient.mrn),
        ("Date of birth", pdf._date(record.patient.birth_date, False)),
        ("Decision", record.decision),
        ("You agreed to", "; ".join(uses) or "nothing (consent withdrawn)"),
        ("Consent given", pdf._date(record.consented_at or record.obtained_at, False)),
        (
            "Recorded by",
            ", ".join(x for x in (record.obtained_by.name, record.obtained_by.role) if x),
        ),
        ("Reference", reference),
    ]
    if record.substitute is not None:
        rows.append(
            ("Consent given by", f"{record.substitute.name} ({record.substitute.relationship})")
        )
    if record.interpreter is not None:
        rows.append(
            ("Interpreter", f"{record.interpreter.language} ({record.interpreter.kind.value})")
        )
    if record.intimate is not None and record.intimate.chaperone_name:
        rows.append(("Chaperone", record.intimate.chaperone_name))
    if record.review_on is not None:
        rows.append(("We will review this consent on", pdf._date(record.review_on, False)))
    if record.withdrawn is not None:
        rows.append(
            (
                "Withdrawn",
                "teaching and publication" if record.withdrawn.value == "secondary" else "all uses",
            )
        )
    story = [pdf._p(title, st["title"])]
    if site_name:
        story.append(pdf._p(site_name, st["body"]))
    story += [Spacer(1, 3), pdf._kv_table(rows, st)]
    story += [
        pdf._p("How to withdraw", st["h2"]),
        pdf._p(how_to_withdraw(site_name, reference), st["body"]),
    ]
    story += pdf.wording_flowables(record, st)
    header = f"{site_name} — {title}" if site_name else title
    doc.build(story, canvasmaker=pdf._numbered_canvas(header, reference, regular, "Patient's copy"))
    return out.getvalue()
