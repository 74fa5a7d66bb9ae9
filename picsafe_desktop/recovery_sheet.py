"""The printable recovery sheet: the one place the vault's recovery code is ever written down.

Built in memory with reportlab; the caller decides where the PDF goes (the user's printer or a
file they chose). The code is never stored by the app.
"""

from __future__ import annotations

import datetime as dt
import io

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas

from picsafe_desktop import APP_NAME


def build_pdf(
    recovery_code: str, vault_id: str, vault_path: str, created: dt.datetime | None = None
) -> bytes:
    created = created or dt.datetime.now().astimezone()
    buf = io.BytesIO()
    pdf = canvas.Canvas(buf, pagesize=A4, invariant=True)
    pdf.setTitle(f"{APP_NAME} recovery sheet")
    width, height = A4
    y = height - 30 * mm
    pdf.setFont("Helvetica-Bold", 20)
    pdf.drawString(25 * mm, y, f"{APP_NAME} — vault recovery sheet")
    y -= 14 * mm
    pdf.setFont("Helvetica", 11)
    for line in (
        f"Vault id: {vault_id}",
        f"Vault folder: {vault_path}",
        f"Created: {created:%d %B %Y %H:%M %Z}",
    ):
        pdf.drawString(25 * mm, y, line)
        y -= 7 * mm
    y -= 8 * mm
    pdf.setFont("Helvetica-Bold", 12)
    pdf.drawString(25 * mm, y, "Recovery code")
    y -= 12 * mm
    pdf.setFont("Courier-Bold", 17)
    pdf.drawString(25 * mm, y, recovery_code)
    y -= 18 * mm
    pdf.setFont("Helvetica", 11)
    for line in (
        "If this computer's keyring is lost (new user profile, reinstalled system), this code",
        "is the only way to open the vault again:  picsafe-desktop vault recover",
        "",
        "Keep this sheet locked away, like a master key. Anyone holding it and a copy of the",
        "vault folder can read every photo in it. PicSafe does not keep a copy of this code.",
    ):
        pdf.drawString(25 * mm, y, line)
        y -= 6.5 * mm
    pdf.showPage()
    pdf.save()
    return buf.getvalue()
