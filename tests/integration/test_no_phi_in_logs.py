"""A run that handles a named patient leaves no patient data in logs, stderr or temp files.

Real CLI processes (vault init, import with consent, list, export, audit verify) at DEBUG level,
with the site config's log file; then every byte the run wrote outside the encrypted vault is
searched for the patient's identifiers and the photos' file names.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

pytestmark = [pytest.mark.keyring, pytest.mark.corpus]

NAME = "Zebediah Quartermaine"
MRN = "QM99887766"
BIRTH = "1961-04-17"
FILE_STEM = "Quartermaine ulcer"


def test_named_patient_run_writes_no_phi_outside_the_vault(tmp_path, corpus, keyring_service):
    log_file = tmp_path / "logs" / "picsafe.log"
    site = tmp_path / "site.toml"
    site.write_text(f'[logging]\nlevel = "DEBUG"\nfile = "{log_file}"\n')
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = dict(os.environ, PICSAFE_CONFIG=str(site), TMPDIR=str(scratch))
    vault = tmp_path / "vault"
    photos = tmp_path / "photos"
    photos.mkdir()
    shutil.copy(corpus / "iphone4-gps__Apple-iPhone-4.jpg", photos / f"{FILE_STEM}.jpg")
    shutil.copy(corpus / "iphone7-gps-thumb__IMG_2682.heic", photos / f"{FILE_STEM} 2.heic")
    consent = tmp_path / "consent.json"
    consent.write_text(
        json.dumps(
            {
                "patient": {"mrn": MRN, "name": NAME, "birth_date": BIRTH},
                "capacity": "self",
                "uses": ["record"],
                "method": "verbal",
                "witness": {"name": "Nurse Witness"},
                "obtained_by": {"name": "Dr Jo Smith", "role": "Registrar", "staff_id": "S1"},
                "body_site": "left shin",
                "indication": "venous ulcer review",
            }
        )
    )
    out: list[str] = []

    def cli(*args: str) -> subprocess.CompletedProcess:
        proc = subprocess.run(
            [sys.executable, "-m", "picsafe_desktop", "-v", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        out.append(proc.stderr)
        assert proc.returncode == 0, proc.stderr
        return proc

    ks = ["--keyring-service", keyring_service]
    cli("vault", "init", "--vault", str(vault), *ks)
    cli("import", "--consent", str(consent), "--vault", str(vault), *ks, str(photos))
    listing = cli("vault", "list", "--vault", str(vault), "--json", *ks)
    consent_id = (
        json.loads(listing.stdout)["items"][0]["consent_id"]
        if "items" in (json.loads(listing.stdout))
        else json.loads(listing.stdout)[0]["consent_id"]
    )
    cli(
        "export",
        "pdf",
        "--consent",
        consent_id,
        "--out",
        str(tmp_path / "report.pdf"),
        "--vault",
        str(vault),
        *ks,
    )
    cli("audit", "verify", "--vault", str(vault), *ks)

    assert not any(photos.iterdir()), "the import wiped the sources"
    logged = log_file.read_text()
    assert "DEBUG" in logged and "import" in logged.lower(), "the log really recorded the run"
    on_disk = [logged]
    on_disk += [p.read_bytes().decode("latin-1") for p in scratch.rglob("*") if p.is_file()]
    for secret in (NAME, *NAME.split(), MRN, BIRTH, FILE_STEM, "ulcer"):
        assert secret.lower() not in "\n".join(on_disk).lower(), f"{secret!r} written to disk"
    # The terminal may show the user their own file names (as the window does), never the
    # patient details from the consent.
    for secret in (NAME, MRN, BIRTH):
        assert secret.lower() not in "\n".join(out).lower(), f"{secret!r} on stderr"
    # The vault folder holds only ciphertext (the report is the user's own export).
    for path in vault.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for secret in (NAME, MRN, BIRTH, "venous ulcer"):
                assert secret.encode() not in data, f"{secret!r} in {path.name}"


def test_drop_folder_file_and_folder_names_never_reach_the_log(tmp_path, corpus, keyring_service):
    """Issue 13, finding 9: at DEBUG, watchdog logged every event with the file's bare name
    (the path was blanked, `name=b'...'` was not) - 73 lines naming the patient."""
    from tests.importer_support import make_vault

    log_file = tmp_path / "logs" / "picsafe.log"
    drop = tmp_path / "drop"
    vault = tmp_path / "vault"
    make_vault(vault, keyring_service).close()
    site = tmp_path / "site.toml"
    site.write_text(
        f'[vault]\npath = "{vault}"\n'
        f'[logging]\nlevel = "DEBUG"\nfile = "{log_file}"\n'
        f'[import]\ndrop_folders = ["{drop}"]\nstable_seconds = 0.3\n'
    )
    env = dict(os.environ, PICSAFE_CONFIG=str(site))
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.integration.dropfolder_log_child", str(site),
         keyring_service, "2"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = 60
        while not drop.is_dir() and deadline > 0:
            import time

            time.sleep(0.1)
            deadline -= 0.1
        folder = drop / f"{NAME} {MRN}"
        folder.mkdir()
        shutil.copy(corpus / "iphone4-gps__Apple-iPhone-4.jpg", folder / f"{FILE_STEM}.jpg")
        shutil.copy(corpus / "iphone4-gps__Apple-iPhone-4.jpg", drop / f"{MRN} {NAME}.jpg.tmp")
        (drop / f"{MRN} {NAME}.jpg.tmp").rename(drop / f"{MRN} {NAME}.jpg")
        with open(drop / f"{MRN} {NAME}.jpg", "ab") as f:
            f.write(b"tail")  # a different original from the first
        _out, err = child.communicate(timeout=180)
    finally:
        child.kill()
    assert child.returncode == 0, err
    logged = log_file.read_text()
    assert "DEBUG" in logged and "drop folder" in logged, "the log really recorded the run"
    for secret in (NAME, *NAME.split(), MRN, FILE_STEM, "ulcer"):
        assert secret.lower() not in logged.lower(), f"{secret!r} written to the log"
        assert secret.lower() not in err.lower(), f"{secret!r} written to stderr"
