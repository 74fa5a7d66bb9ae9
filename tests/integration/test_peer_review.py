"""Defects an outside review of issues 14/16 found against the real peers (Medplum's FHIR
engine, dciodvfy), each reproduced here before its fix."""

from __future__ import annotations

import dataclasses
import subprocess

import pytest

from picsafe_desktop.export import dicom, fhir
from picsafe_desktop.model import Patient
from tests import export_data as d
from tests.export_tools import MedplumEngine, require

MRN_SYSTEM = "urn:oid:1.2.826.0.1.999.1"
ID_SYSTEM = "urn:oid:1.2.826.0.1.999.2"


@pytest.fixture
def engine():
    server = MedplumEngine()
    yield server
    server.stop()


def _many_photos(n: int) -> list:
    return [d.photo(f"item-{i:02d}", d.synthetic_jpeg(64 + i, 48)) for i in range(n)]


def test_a_consent_with_many_photos_reaches_medplum_and_a_resend_creates_nothing(engine):
    """Was: 12 photos under one consent -> HTTP 400 "Transaction requires strict isolation but
    has too many entries" (Medplum allows at most 8 entries in a transaction that holds
    conditional creates), so a ward's ordinary batch never reached the EHR."""
    batch = d.batch(photos=_many_photos(12))
    target = fhir.FhirTarget(engine.base_url, token="engine-token", retries=0, timeout=60)
    first = fhir.send(batch, target, mrn_system=MRN_SYSTEM, id_system=ID_SYSTEM)
    # 12 photo Binaries + 2 PDFs, Patient, Consent, 12 Media, DocumentReference
    assert (first.created, first.present) == (14 + 1 + 1 + 12 + 1, 0)
    second = fhir.send(batch, target, mrn_system=MRN_SYSTEM, id_system=ID_SYSTEM)
    assert (second.created, second.present) == (0, 29)
    (patient,) = engine.search(f"Patient?identifier={MRN_SYSTEM}|MRN-4401927")
    media = engine.search(f"Media?subject=Patient/{patient['id']}&_count=100")
    assert sorted(m["identifier"][0]["value"] for m in media) == [
        f"item-{i:02d}" for i in range(12)
    ]
    assert all(m["subject"]["reference"] == f"Patient/{patient['id']}" for m in media)
    (consent,) = engine.search("Consent")
    assert consent["patient"]["reference"] == f"Patient/{patient['id']}"
    (document,) = engine.search("DocumentReference")
    assert document["subject"]["reference"] == f"Patient/{patient['id']}"


def test_a_long_non_latin_patient_name_passes_dciodvfy(tmp_path):
    """Was: 'Seán O'Brien-Wolfeschlegel…-Łukasiewicz 王小明' went out as a 72-byte PN
    component group; dciodvfy: "Length invalid for this VR = 72, expected <= 64"."""
    long_name = "Seán O'Brien-Wolfeschlegelsteinhausenbergerdorff-Łukasiewicz 王小明"
    batch = d.batch(photos=[d.photo("item-a", d.synthetic_jpeg())])
    batch = dataclasses.replace(
        batch,
        consent=dataclasses.replace(
            batch.consent, patient=Patient(mrn="PC-7701", name=long_name, birth_date=None)
        ),
    )
    (ds,) = dicom.build_datasets(batch)
    path = tmp_path / "photo.dcm"
    path.write_bytes(dicom.to_bytes(ds))
    done = subprocess.run([require("dciodvfy"), str(path)], capture_output=True, text=True)
    errors = [ln for ln in (done.stdout + done.stderr).splitlines() if ln.startswith("Error")]
    assert errors == []
    import pydicom

    name = str(pydicom.dcmread(path).PatientName)
    assert name.startswith("王小明^Seán O'Brien-Wolfeschlegel")
    assert all(len(g.encode()) <= 64 for g in name.split("="))


# -- wrong TLS configuration: a message naming the setting, never a traceback -----------------


@pytest.fixture(params=["missing", "not-pem"])
def bad_ca(request, tmp_path):
    path = tmp_path / "hospital-ca.pem"
    if request.param == "not-pem":  # e.g. IT pointed at the key, or a DER file
        path.write_text("this is not a certificate\n")
    return str(path)


def test_patient_lookup_with_an_unusable_fhir_ca_file_names_the_setting(
    engine, tmp_path, bad_ca, capsys
):
    """Was: `[fhir] ca_file` naming a file that is not a PEM bundle stopped `patient lookup`
    with "stopped by an unexpected error" and an ssl.SSLError traceback on the terminal."""
    from picsafe_desktop import cli

    site = tmp_path / "site.toml"
    site.write_text(
        f'[fhir]\nbase_url = "{engine.base_url}"\ntoken = "t"\npatient_lookup = true\n'
        f'mrn_system = "{MRN_SYSTEM}"\nca_file = "{bad_ca}"\n'
    )
    code = cli.main(["--config", str(site), "patient", "lookup", "--mrn", "MRN-1"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "[fhir] ca_file" in err and bad_ca in err
    assert "Traceback" not in err and "unexpected error" not in err


def test_fhir_export_with_an_unusable_ca_file_is_an_export_error(bad_ca):
    target = fhir.FhirTarget("https://127.0.0.1:1/fhir", token="t", retries=0, ca_file=bad_ca)
    with pytest.raises(fhir.ExportError, match=r"\[fhir\] ca_file"):
        fhir.send(d.batch(), target, mrn_system=MRN_SYSTEM)


def test_stow_with_an_unusable_ca_file_is_an_export_error(bad_ca):
    from picsafe_desktop.export import stow

    target = stow.StowTarget("https://127.0.0.1:1/dicom-web", token="t", ca_file=bad_ca)
    with pytest.raises(fhir.ExportError, match=r"\[pacs\] stow_ca_file"):
        stow.send_datasets(dicom.build_datasets(d.batch()), target)


# -- a patient name outside the report font ------------------------------------------------------


def test_a_cjk_patient_name_is_printed_whole_on_every_page_and_stays_pdfa(tmp_path):
    """Was: 'Seán O'Brien 王小明' printed as 'Seán O'Brien' (DejaVu Sans has no CJK glyphs:
    the characters became glyph 0, invisible) on the patient banner of every page, and PDFBox
    Preflight refused the file ("character code 0 ... missing")."""
    from picsafe_desktop.export import pdf
    from tests.export_tools import pdfbox_preflight

    batch = d.batch(photos=[d.photo("item-a", d.synthetic_jpeg())])
    batch = dataclasses.replace(
        batch,
        consent=dataclasses.replace(
            batch.consent,
            patient=Patient(mrn="PC-7701", name="Seán O'Brien 王小明", birth_date=None),
        ),
    )
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf.render_report(batch))
    pages = int(
        next(
            ln.split()[-1]
            for ln in subprocess.run(
                [require("pdfinfo"), str(path)], capture_output=True, text=True, check=True
            ).stdout.splitlines()
            if ln.startswith("Pages:")
        )
    )
    for page in range(1, pages + 1):
        text = subprocess.run(
            [require("pdftotext"), "-f", str(page), "-l", str(page), str(path), "-"],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        assert "Seán O'Brien 王小明" in text, page
    assert pdfbox_preflight(path) == []


def test_a_library_error_with_a_traceback_reaches_the_terminal_as_one_line(tmp_path, capsys):
    """Was: a worklist at an address that answers junk made pynetdicom log its read error with
    the whole traceback, which the stderr handler printed on the terminal ("No traceback
    reaches a user"); the log file keeps it for IT."""
    import logging

    from picsafe_desktop import config, logsetup

    log_file = tmp_path / "app.log"
    logsetup.configure(config.from_dict({"logging": {"file": str(log_file)}}))
    try:
        try:
            raise OSError(9, "Bad file descriptor")
        except OSError:
            logging.getLogger("pynetdicom.dul").exception("[Errno 9] Bad file descriptor")
        for handler in logging.getLogger().handlers:
            handler.flush()
        err = capsys.readouterr().err
        assert "pynetdicom.dul: [Errno 9] Bad file descriptor" in err
        assert "OSError: [Errno 9] Bad file descriptor" in err  # what happened, in one line
        assert "Traceback" not in err and "File " not in err
        assert "Traceback" in log_file.read_text()
    finally:
        for handler in list(logging.getLogger().handlers):
            if getattr(handler, "_picsafe", False):
                logging.getLogger().removeHandler(handler)
                handler.close()


def test_later_parts_reference_the_patient_conditionally_when_the_server_gives_no_location():
    """A server may answer a matched conditional create without a location: the later parts of
    a split export then name the Patient by its identifier, never by a dangling urn:uuid."""
    import json
    from urllib.parse import quote

    from tests.export_tools import FhirEndpoint, transaction_response

    def no_location(request_bundle: dict) -> dict:
        answer = transaction_response(request_bundle, status="200 OK")
        for entry in answer["entry"]:
            del entry["response"]["location"]
        return answer

    server = FhirEndpoint()
    try:
        server.script = [(200, no_location, {}), (200, transaction_response, {})]
        target = fhir.FhirTarget(server.base_url, token="t", retries=0)
        fhir.send(d.batch(photos=_many_photos(12)), target, mrn_system=MRN_SYSTEM)
    finally:
        server.close()
    first, second = (json.loads(r["body"]) for r in server.requests)
    assert [len(first["entry"]), len(second["entry"])] == [8, 7]
    refs = {e["resource"]["subject"]["reference"] for e in second["entry"]}
    assert refs == {"Patient?identifier=" + quote(f"{MRN_SYSTEM}|MRN-4401927", safe="")}, refs
    assert first["entry"][0]["fullUrl"] not in json.dumps(second)  # the Patient's placeholder
