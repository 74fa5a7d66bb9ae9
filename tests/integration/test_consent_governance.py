"""Issue 15 end to end on a real vault (real keyring): amendment, partial and full withdrawal,
a clinician's identifiability answer, intimate photos, the patient's copy, retention and the
disposal report — through the CLI and through services.py, which share governance.py.
Names added by the fix are imported inside the tests, so the file runs against the old code."""

from __future__ import annotations

import datetime as dt
import json
import subprocess

import pikepdf
import pytest

from picsafe_desktop import cli, config
from picsafe_desktop.consent import record_from_dict
from picsafe_desktop.deid import Redaction
from picsafe_desktop.model import Staff
from picsafe_desktop.services import Services
from picsafe_desktop.vault import Vault
from tests.export_tools import require
from tests.importer_support import make_vault, small_jpegs, unique_jpeg

pytestmark = [pytest.mark.keyring, pytest.mark.corpus]

CONSENT = {
    "patient": {"mrn": "RX0077001", "name": "Ada Example", "birth_date": "1970-01-02"},
    "capacity": "self",
    "uses": ["record", "teaching"],
    "method": "verbal",
    "witness": {"name": "Nurse Witness"},
    "obtained_by": {"name": "Dr Jo Smith", "role": "Registrar", "staff_id": "S77"},
    "body_site": "left forearm",
    "indication": "wound review",
    "identifiability": "not_identifiable",
}


@pytest.fixture
def env(tmp_path, keyring_service):
    vault_dir = tmp_path / "vault"
    make_vault(vault_dir, keyring_service).close()
    base = ["--vault", str(vault_dir), "--keyring-service", keyring_service]

    def import_with(form: dict, count: int = 2, config_file=None) -> str:
        path = tmp_path / f"consent-{len(list(tmp_path.glob('consent-*')))}.json"
        path.write_text(json.dumps(form))
        photos = tmp_path / f"photos-{path.stem}"
        photos.mkdir()
        # the iPhone 4 photo first: the Haar detector reports no face in it
        for i, src in enumerate(small_jpegs()[:count]):
            (photos / f"IMG_{i}.jpg").write_bytes(unique_jpeg(src.read_bytes(), path.stem + str(i)))
        pre = ["--config", str(config_file)] if config_file else []
        assert cli.main([*pre, "import", "--consent", str(path), *base, "-q", str(photos)]) == 0
        with Vault.open(vault_dir, keyring_service) as vault:
            return vault.find_by_mrn(form["patient"]["mrn"])[-1]

    def run(*args, config_file=None) -> int:
        pre = ["--config", str(config_file)] if config_file else []
        return cli.main([*pre, *args[:2], *base, *args[2:]])

    def open_vault():
        return Vault.open(vault_dir, keyring_service)

    def services(**site_raw):
        unverified = {"staff": {"allow_unverified_names": True}}  # typed name below
        site = config.from_dict({"vault": {"path": str(vault_dir)}, **unverified, **site_raw})
        svc = Services(site, open_vault())
        svc.sign_in(Staff("Dr Jo Smith", "Registrar", "S77"))
        return svc

    return import_with, run, open_vault, services, tmp_path


def export(run, consent_id, use, out, item=None):
    extra = ["--item", item] if item else []
    return run("export", "pdf", "--consent", consent_id, "--use", use, "--out", str(out), *extra)


# --- finding 5: amendment and partial withdrawal --------------------------------------------


def test_withdrawing_teaching_keeps_the_record_copies_and_marks_the_consent(env, capsys):
    from picsafe_desktop.model import Withdrawal

    import_with, run, open_vault, _, tmp = env
    consent_id = import_with(CONSENT, count=1)
    assert export(run, consent_id, "record", tmp / "record.pdf") == 0
    assert run("consent", "withdraw", consent_id, "--scope", "secondary", "--reason", "asked") == 0
    with open_vault() as vault:
        photos = vault.list_items()
        assert len(photos) == 1  # the record copy stays in the vault
        new_id = photos[0].consent_id
        assert new_id != consent_id
        old = record_from_dict(vault.read_consent(consent_id, actor="t"))  # still readable
        new = record_from_dict(vault.read_consent(new_id, actor="t"))
        assert new.withdrawn is Withdrawal.SECONDARY and new.amends == consent_id
        assert {u.value for u in new.uses} == {"record"}
        assert {u.value for u in old.uses} == {"record", "teaching"}
        events = [r.event for r in vault.audit_rows(subject=consent_id)]
        assert "consent_withdrawn" in events
    capsys.readouterr()
    assert export(run, new_id, "teaching", tmp / "t.pdf") == 1
    assert "withdrawn" in capsys.readouterr().err
    assert export(run, new_id, "record", tmp / "record2.pdf") == 0


def test_full_withdrawal_follows_the_policy_for_record_copies(env, capsys):
    from picsafe_desktop.model import Withdrawal

    import_with, run, open_vault, _, tmp = env
    consent_id = import_with(CONSENT, count=1)
    assert export(run, consent_id, "record", tmp / "record.pdf") == 0
    policy = tmp / "site.toml"
    policy.write_text('[consent]\nwithdrawal_policy = "remove_record_copies"\n')
    capsys.readouterr()
    assert (
        run(
            "consent", "withdraw", consent_id, "--scope", "full", "--reason", "patient asked",
            "--json", config_file=policy,
        )
        == 0
    )  # fmt: skip
    result = json.loads(capsys.readouterr().out)
    assert result["photos_destroyed"] == 1
    assert len(result["record_exports"]) == 1
    assert "records team" in result["record_copies_action"]
    with open_vault() as vault:
        assert vault.list_items() == []
        marks = [record_from_dict(vault.read_consent(c, actor="t")) for c in vault.find_by_mrn(
            CONSENT["patient"]["mrn"])]  # fmt: skip
        assert [m.withdrawn for m in marks] == [None, Withdrawal.FULL]
    # the disposal report, from the audit log: what, when, by whom, why
    capsys.readouterr()
    assert run("consent", "disposal-report", "--json") == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["reason"] == "patient asked" and row["by"].startswith("cli:")


def test_amendment_is_a_new_linked_record_and_both_are_kept(env):
    from picsafe_desktop import governance

    import_with, run, open_vault, services, tmp = env
    consent_id = import_with(CONSENT, count=1)
    svc = services()
    wider = dict(CONSENT, uses=["record", "teaching", "publication"], publication="BMJ")
    new_id = svc.amend_consent(consent_id, wider, "patient agreed to publication")
    assert svc.read_consent(new_id).amends == consent_id
    assert {u.value for u in svc.read_consent(consent_id).uses} == {"record", "teaching"}
    assert [i.consent_id for i in svc.photos()] == [new_id]
    with pytest.raises(governance.GovernanceError, match="already amended"):
        svc.amend_consent(consent_id, CONSENT, "again")
    svc.close()


# --- finding 1: identifiability changed later, unknown refused, redaction ------------------


def test_unknown_photo_refused_for_teaching_until_a_clinician_answers(env, capsys):
    import_with, run, open_vault, services, tmp = env
    form = {k: v for k, v in CONSENT.items() if k != "identifiability"}
    consent_id = import_with(form, count=1)
    assert export(run, consent_id, "teaching", tmp / "t.pdf") == 1
    assert "identifiable or not identifiable" in capsys.readouterr().err
    with open_vault() as vault:
        (photo,) = vault.list_items()
    assert (
        run(
            "consent",
            "identifiability",
            photo.item_id,
            "--answer",
            "not_identifiable",
            "--reason",
            "forearm only",
        )  # fmt: skip
        == 0
    )
    assert export(run, consent_id, "teaching", tmp / "t.pdf") == 0
    with open_vault() as vault:
        (row,) = [
            r for r in vault.audit_rows(subject=photo.item_id) if r.event == "identifiability"
        ]
        assert row.details == {
            "from": "unknown",
            "to": "not_identifiable",
            "reason": "forearm only",
        }


def test_photo_taken_before_the_bedside_consent_is_flagged(env, capsys):
    import_with, run, open_vault, services, tmp = env
    # the iPhone 4 corpus photo was taken in 2011: long before any consent given today
    form = dict(CONSENT, consented_at=dt.datetime.now().strftime("%Y-%m-%d %H:%M"))
    consent_id = import_with(form, count=1)
    svc = services()
    (photo,) = svc.photos()
    assert svc.photo_flags(photo.item_id)["taken_before_consent"] is True
    svc.close()
    assert export(run, consent_id, "record", tmp / "r.pdf") == 0
    text = subprocess.run(
        [require("pdftotext"), str(tmp / "r.pdf"), "-"], capture_output=True, text=True
    )
    assert "taken BEFORE the recorded bedside consent" in text.stdout


def test_per_photo_answers_of_the_wrong_count_leave_the_photos_waiting(env, tmp_path, capsys):
    _, run, open_vault, _, _ = env
    form = dict(CONSENT, identifiability=["identifiable", "not_identifiable", "identifiable"])
    path = tmp_path / "three.json"
    path.write_text(json.dumps(form))
    photos = tmp_path / "two"
    photos.mkdir()
    for i, src in enumerate(small_jpegs()[:2]):
        (photos / f"IMG_{i}.jpg").write_bytes(unique_jpeg(src.read_bytes(), f"w{i}"))
    assert run("import", "-q", "--consent", str(path), str(photos)) == 1
    err = capsys.readouterr().err
    assert "3 identifiability answers were given for 2 photos" in err
    assert "wait for consent" in err
    with open_vault() as vault:
        assert {i.state.value for i in vault.list_items()} == {"awaiting_consent"}


def test_face_photo_marked_not_identifiable_is_stopped_until_redacted_or_confirmed(
    env, tmp_path, capsys
):
    _, run, open_vault, services, tmp = env
    portrait = small_jpegs()[3]  # canon-eos-7d-serial-person: a real face
    assert "person" in portrait.name
    photos = tmp_path / "portrait"
    photos.mkdir()
    (photos / "IMG_0.jpg").write_bytes(unique_jpeg(portrait.read_bytes(), "face"))
    form = tmp_path / "face.json"
    form.write_text(json.dumps(CONSENT))  # answered "not identifiable" at consent
    assert run("import", "-q", "--consent", str(form), str(photos)) == 0
    with open_vault() as vault:
        (photo,) = vault.list_items()
    capsys.readouterr()
    assert export(run, photo.consent_id, "teaching", tmp / "t.pdf") == 1
    assert "a face was detected" in capsys.readouterr().err
    svc = services()
    redacted = svc.redact(photo.item_id, [Redaction(0, 0, 4000, 4000)], replace=False)
    svc.close()
    assert export(run, photo.consent_id, "teaching", tmp / "r.pdf", item=redacted) == 0
    assert export(run, photo.consent_id, "teaching", tmp / "t.pdf", item=photo.item_id) == 1
    answer = ["consent", "identifiability", photo.item_id, "--answer", "not_identifiable"]
    assert run(*answer, "--reason", "face turned away from camera") == 0
    assert export(run, photo.consent_id, "teaching", tmp / "t.pdf", item=photo.item_id) == 0


def test_saved_redaction_is_not_identifiable_and_confirmed(env):
    import_with, _, _, services, _ = env
    form = dict(CONSENT, identifiability="identifiable")
    import_with(form, count=1)
    svc = services()
    (photo,) = svc.photos()
    new_id = svc.redact(photo.item_id, [Redaction(0, 0, 50, 50)], replace=False)
    flags = svc.photo_flags(new_id)
    assert flags["identifiability"] == "not_identifiable" and flags["confirmed_by"]
    assert svc.photo_flags(photo.item_id)["identifiability"] == "identifiable"
    svc.close()


# --- finding 4: intimate photos -------------------------------------------------------------


def test_intimate_photo_needs_a_reason_on_every_view_and_hides_its_thumbnail(env):
    from picsafe_desktop.services import ReasonRequired

    import_with, _, open_vault, services, _ = env
    form = dict(
        CONSENT,
        uses=["record"],
        body_site="perineum",
        intimate={"preference": "wanted", "chaperone": {"name": "Nurse Kay", "role": "nurse"}},
    )
    import_with(form, count=1)
    svc = services()
    (photo,) = svc.photos()
    real = svc.vault.read_thumbnail(photo.item_id)
    assert svc.thumbnail(photo.item_id) != real
    with pytest.raises(ReasonRequired):
        svc.view(photo.item_id)
    assert svc.view(photo.item_id, reason="wound check before dressing")
    assert svc.thumbnail(photo.item_id) == real  # opened: the grid may show it now
    with pytest.raises(ReasonRequired):
        svc.view(photo.item_id)  # asked again on every view
    views = [r for r in svc.vault.audit_rows(subject=photo.item_id) if r.event == "view"]
    assert views[-1].details["purpose"] == "view intimate: wound check before dressing"
    svc.sign_out()
    svc.close()


# --- finding 6: patient's copy and retention ------------------------------------------------


def test_patient_copy_has_the_wording_and_how_to_withdraw_but_no_staff_or_audit_data(env):
    import_with, run, open_vault, _, tmp = env
    consent_id = import_with(CONSENT, count=1)
    out = tmp / "copy.pdf"
    assert run("consent", "copy", consent_id, "--out", str(out)) == 0
    text = subprocess.run(
        [require("pdftotext"), str(out), "-"], capture_output=True, text=True
    ).stdout
    assert "How to withdraw" in text
    assert "Teaching. With your permission" in text  # the wording they were shown
    assert "How long we keep the photographs" in text  # retention, in the wording
    assert "S77" not in text  # no staff ID
    assert "audit" not in text.lower()
    with pikepdf.open(out) as pdf:
        assert len(pdf.pages) >= 1
    with open_vault() as vault:
        assert "patient_copy" in [r.event for r in vault.audit_rows(subject=consent_id)]


def test_retention_lists_photos_past_their_period_and_disposal_is_a_persons_action(env):
    from picsafe_desktop import governance

    import_with, run, open_vault, _, tmp = env
    consent_id = import_with(CONSENT, count=1)
    assert export(run, consent_id, "record", tmp / "record.pdf") == 0
    with open_vault() as vault:
        (photo,) = vault.list_items()
        assert governance.retention_due(vault, 30) == []  # reached the record just now
        later = dt.datetime.now(dt.UTC) + dt.timedelta(days=31)
        due = governance.retention_due(vault, 30, now=later)
        assert [d["photo"] for d in due] == [photo.item_id]
        assert len(vault.list_items()) == 1  # listing never destroys
        governance.dispose(vault, [photo.item_id], actor="Dr Jo", keep_days=30, now=later)
        (row,) = governance.disposal_report(vault)
        assert row["photo"] == photo.item_id and row["by"] == "Dr Jo"
        assert "retention: kept 30 days" in row["reason"]


def test_cli_amend_review_and_retention(env, tmp_path, capsys):
    import_with, run, open_vault, _, tmp = env
    child = dict(
        CONSENT,
        patient={"mrn": "RX0077009", "birth_date": "2012-01-10"},
        capacity="substitute",
        substitute={"name": "Sam", "relationship": "mother", "parental_responsibility": True},
        child={"assent": "assents"},
    )
    consent_id = import_with(child, count=1)
    site = tmp_path / "site.toml"
    site.write_text("[consent]\nreview_at_age = 13\n[retention]\nkeep_days_after_record = 30\n")
    narrower = tmp_path / "narrower.json"
    narrower.write_text(json.dumps(dict(child, uses=["record"])))
    capsys.readouterr()
    assert (
        run(
            "consent",
            "amend",
            consent_id,
            "--consent",
            str(narrower),
            "--reason",
            "no teaching",
            config_file=site,
        )  # fmt: skip
        == 0
    )
    assert "amended by the new record" in capsys.readouterr().out
    with open_vault() as vault:
        (photo,) = vault.list_items()
        new = record_from_dict(vault.read_consent(photo.consent_id, actor="t"))
    assert new.amends == consent_id and {u.value for u in new.uses} == {"record"}
    assert run("consent", "review", config_file=site) == 0
    assert f"{photo.consent_id}: the patient reached the review age" in capsys.readouterr().out
    assert run("consent", "retention", config_file=site) == 0
    assert "No photo is past its retention period." in capsys.readouterr().out


def test_a_redacted_copy_can_be_exported(env):
    """It used to carry the original's hash in its metadata and failed every export."""
    import_with, run, _, services, tmp = env
    form = {k: v for k, v in CONSENT.items() if k != "identifiability"}
    consent_id = import_with(form, count=1)
    svc = services()
    (photo,) = svc.photos()
    redacted = svc.redact(photo.item_id, [Redaction(0, 0, 50, 50)], replace=True)
    svc.close()
    assert export(run, consent_id, "record", tmp / "redacted.pdf", item=redacted) == 0
