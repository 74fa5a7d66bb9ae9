"""Issue 15, finding 8: the PDF states the decision as it was, carries the wording text, and
a de-identified copy has no batch or photo ids, no full dates and no unscreened free text."""

from __future__ import annotations

import dataclasses
import re

from picsafe_desktop.export import pdf
from picsafe_desktop.model import Capacity, Use
from tests import export_data as d
from tests.integration.test_export_pdf import _text

WORDING = "Consent to clinical photography\n\nWe would like to take photographs of your arm.\n"


def with_consent(batch, **changes):
    return dataclasses.replace(batch, consent=dataclasses.replace(batch.consent, **changes))


def test_best_interests_pdf_says_so(tmp_path):
    batch = with_consent(d.batch(signature=False), capacity=Capacity.LACKS_CAPACITY)
    text = " ".join(_text(tmp_path, pdf.render_report(batch)).split())
    assert "best-interests decision" in text
    assert "consent granted" not in text
    substitute = " ".join(_text(tmp_path, pdf.render_report(d.batch(substitute=True))).split())
    assert "consent given by a substitute" in substitute


def test_report_appends_the_wording_the_patient_saw(tmp_path):
    batch = with_consent(d.batch(), wording_text=WORDING)
    text = " ".join(_text(tmp_path, pdf.render_report(batch)).split())
    assert "We would like to take photographs of your arm." in text
    assert "Consent wording shown (photo-consent-v3)" in text


def test_deidentified_copy_has_no_ids_full_dates_or_free_text(tmp_path):
    batch = with_consent(
        d.batch(use=Use.TEACHING, uses=(Use.RECORD, Use.TEACHING)),
        indication="Seen by Dr House at St Mary's after a fall at 12 Acacia Avenue",
    )
    text = " ".join(_text(tmp_path, pdf.render_report(batch)).split())
    assert batch.batch_id not in text
    assert "item-a" not in text and "item-b" not in text
    assert "Acacia" not in text and "House" not in text
    months = "Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec"
    assert not re.search(rf"\b\d{{1,2}} ({months}) \d{{4}}", text), text
    assert "left forearm" in text  # a coded body site survives screening
