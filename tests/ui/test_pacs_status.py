"""Issue 16: the details pane shows, per photo, whether the PACS committed to keeping it —
after a real export to Orthanc and its storage commitment answer."""

from __future__ import annotations

import pytest

from picsafe_desktop import config, governance
from picsafe_desktop.services import Services
from picsafe_desktop.ui import workers
from picsafe_desktop.vault import Vault
from tests import export_data as d
from tests.export_tools import AET
from tests.hospital_tools import CALLING_AET
from tests.importer_support import small_jpegs, unique_jpeg
from tests.ui.test_desktop import NURSE, make_window, sign_in
from tests.unit.vault_support import TEST_KDF

pytestmark = [pytest.mark.keyring, pytest.mark.corpus,
              pytest.mark.qt_log_ignore("^This plugin does not support ")]  # fmt: skip


def test_details_pane_says_in_the_pacs_only_after_commitment(
    qtbot, tmp_path, keyring_service, hospital_orthanc
):
    hospital_orthanc.clear()
    site = config.from_dict({
        "vault": {"path": str(tmp_path / "vault")},
        "logging": {"file": str(tmp_path / "log" / "app.log")},
        "staff": {"allow_unverified_names": True},  # the test is about the PACS status
        "pacs": {"ae_title": AET, "host": "127.0.0.1", "port": hospital_orthanc.dicom_port,
                 "calling_ae_title": CALLING_AET, "storage_commitment": True,
                 "commitment_port": hospital_orthanc.commit_port},
    })  # fmt: skip
    vault, _ = Vault.create(site.vault.path, keyring_service, kdf=TEST_KDF)
    services = Services(site, vault)
    try:
        photos = tmp_path / "phone"
        photos.mkdir()
        for i, src in enumerate(small_jpegs()[:2]):
            (photos / f"IMG_{i}.jpg").write_bytes(unique_jpeg(src.read_bytes(), f"ui{i}"))
        services.sign_in(NURSE)
        services.import_paths([photos])
        (batch,) = services.waiting_batches()
        consent_id = services.record_consent(batch.batch_id, d.consent())
        ids = [p.item_id for p in services.photos([consent_id])]
        for item_id in ids:
            governance.set_identifiability(vault, item_id, "not_identifiable", actor="test",
                                           reason="no face in view")  # fmt: skip
        assert services.pacs_status(ids[0]) == ""
        outcome = services.export(consent_id, "dicom", "record", {})
        assert "committed all 2 photos" in outcome.detail
        services.sign_out()

        window = make_window(qtbot, site, services)
        sign_in(qtbot, window)
        qtbot.waitUntil(lambda: window.patient_list.count() == 1, timeout=15000)
        window.patient_list.setCurrentRow(0)
        qtbot.waitUntil(lambda: window.thumbnails.rowCount() == 2, timeout=15000)
        window.grid.setCurrentIndex(window.thumbnails.index(0))
        qtbot.waitUntil(lambda: "In the PACS (committed" in window.details.text(), timeout=15000)
        window.close()
    finally:
        workers.wait_for_done(30000)
        services.close()
