"""Encrypted package: opened with the standard `age` tool and unzip, nothing of ours."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import zipfile

import pyrage
import pytest

from picsafe_desktop.export import files, package
from picsafe_desktop.export.types import ExportRefused
from picsafe_desktop.model import Use
from tests import export_data as d
from tests.export_tools import require


def _age_decrypt(tmp_path, sealed: bytes, identity: str) -> bytes:
    key = tmp_path / "key.txt"
    key.write_text(identity + "\n")
    key.chmod(0o600)
    pkg = tmp_path / "export.age"
    files.write_file(pkg, sealed)
    return subprocess.run(
        [require("age"), "-d", "-i", str(key), str(pkg)], check=True, capture_output=True
    ).stdout


def test_recipient_opens_the_package_with_the_age_cli(tmp_path):
    ident = pyrage.x25519.Identity.generate()
    batch = d.batch()
    sealed = package.build_package(
        batch, recipients=[str(ident.to_public())], mrn_system="urn:oid:1.2.3"
    )
    assert sealed.startswith(b"age-encryption.org/v1")
    assert batch.photos[0].jpeg[100:400] not in sealed and b"MRN-4401927" not in sealed
    plain = _age_decrypt(tmp_path, sealed, str(ident))
    with zipfile.ZipFile(io.BytesIO(plain)) as zf:
        assert zf.testzip() is None
        names = zf.namelist()
        assert {"report.pdf", "fhir-bundle.json", "manifest.json"} <= set(names)
        assert [zf.read(f"photos/photo-0{n}.jpg") for n in (1, 2)] == [p.jpeg for p in batch.photos]
        assert zf.read("report.pdf").startswith(b"%PDF")
        bundle = json.loads(zf.read("fhir-bundle.json"))
        assert bundle["resourceType"] == "Bundle" and bundle["type"] == "transaction"
        manifest = json.loads(zf.read("manifest.json"))
        for entry in manifest["files"]:
            assert hashlib.sha256(zf.read(entry["name"])).hexdigest() == entry["sha256"]
        assert manifest["report_id"] == batch.report_id and not manifest["deidentified"]


def test_wrong_identity_cannot_open_it(tmp_path):
    right, wrong = pyrage.x25519.Identity.generate(), pyrage.x25519.Identity.generate()
    sealed = package.build_package(d.batch(), recipients=[str(right.to_public())],
                                   mrn_system="urn:oid:1.2.3")  # fmt: skip
    with pytest.raises(subprocess.CalledProcessError):
        _age_decrypt(tmp_path, sealed, str(wrong))


def test_several_recipients_each_can_open_it(tmp_path):
    a, b = pyrage.x25519.Identity.generate(), pyrage.x25519.Identity.generate()
    sealed = package.build_package(
        d.batch(), recipients=[str(a.to_public()), str(b.to_public())], mrn_system="urn:oid:1.2.3"
    )
    assert _age_decrypt(tmp_path, sealed, str(a)) == _age_decrypt(tmp_path, sealed, str(b))


def test_teaching_package_holds_no_identifiers(tmp_path):
    ident = pyrage.x25519.Identity.generate()
    batch = d.batch(use=Use.TEACHING, uses=(Use.RECORD, Use.TEACHING))
    plain = _age_decrypt(
        tmp_path, package.build_package(batch, recipients=[str(ident.to_public())]), str(ident)
    )
    with zipfile.ZipFile(io.BytesIO(plain)) as zf:
        text = zf.read("fhir-bundle.json").decode() + zf.read("manifest.json").decode()
        assert json.loads(zf.read("manifest.json"))["deidentified"] is True
    for secret in ("MRN-4401927", "Zo\\u00eb", "Zoë", "1961-03-14"):
        assert secret not in text
    # nor the vault's ids, which the record copy shows (consent, batch, photos)
    for vault_id in ("cons-0001", batch.batch_id, *(p.item_id for p in batch.photos)):
        assert f'"{vault_id}"' not in text


def test_identifiable_photos_are_never_packaged_for_publication():
    batch = d.batch(use=Use.PUBLICATION, uses=(Use.RECORD, Use.PUBLICATION), identifiable=True)
    with pytest.raises(ExportRefused):
        package.build_package(batch, passphrase="a long test passphrase")


@pytest.mark.corpus
def test_package_of_scrubbed_corpus_photos(tmp_path):
    photos = d.scrubbed_corpus_photos()
    ident = pyrage.x25519.Identity.generate()
    sealed = package.build_package(d.batch(photos=photos), recipients=[str(ident.to_public())],
                                   mrn_system="urn:oid:1.2.3")  # fmt: skip
    with zipfile.ZipFile(io.BytesIO(_age_decrypt(tmp_path, sealed, str(ident)))) as zf:
        assert [zf.read(f"photos/photo-0{n}.jpg") for n in (1, 2)] == [p.jpeg for p in photos]
