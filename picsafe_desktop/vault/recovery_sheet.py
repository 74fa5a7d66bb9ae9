"""A printable recovery sheet (PDF) for a vault's recovery code."""

from __future__ import annotations

import datetime as dt
import errno
import io
from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas

from picsafe_desktop import APP_NAME
from picsafe_desktop.atomic import write_atomically

_INSTRUCTIONS = (
    "Keep this sheet locked away, apart from the computer that holds the vault.",
    "If the computer's keyring is lost (new user profile, reinstalled system), run",
    "    picsafe-desktop vault recover --vault <folder>",
    "and type the code above. Without this code such a vault cannot be opened again.",
    "Anyone holding this code and a copy of the vault folder can read every photo in it.",
)


def recovery_sheet_pdf(*, vault_id: str, vault_path: str, code: str) -> bytes:
    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=A4, invariant=True)
    pdf.setTitle(f"{APP_NAME} vault recovery sheet")
    width, height = A4
    y = height - 30 * mm
    pdf.setFont("Helvetica-Bold", 18)
    pdf.drawString(25 * mm, y, f"{APP_NAME}: vault recovery sheet")
    pdf.setFont("Helvetica", 11)
    for line in (
        f"Vault id: {vault_id}",
        f"Vault folder: {vault_path}",
        f"Printed: {dt.date.today().isoformat()}",
    ):
        y -= 8 * mm
        pdf.drawString(25 * mm, y, line)
    y -= 22 * mm
    pdf.setFont("Courier-Bold", 22)
    pdf.drawCentredString(width / 2, y, code)
    pdf.rect(20 * mm, y - 8 * mm, width - 40 * mm, 22 * mm)
    pdf.setFont("Helvetica", 11)
    y -= 24 * mm
    for line in _INSTRUCTIONS:
        pdf.drawString(25 * mm, y, line)
        y -= 6.5 * mm
    pdf.showPage()
    pdf.save()
    return out.getvalue()


def write_recovery_sheet(
    path: Path, *, vault_id: str, vault_path: str, code: str, overwrite: bool = False
) -> None:
    """Write the sheet owner-only and atomically: never half a sheet holding part of the code."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(errno.EEXIST, "file exists", str(path))
    write_atomically(path, recovery_sheet_pdf(vault_id=vault_id, vault_path=vault_path, code=code))
