"""Child process for test_no_phi_in_logs: the drop-folder path of the app at the site's log
level - watcher, services and importer as run_gui wires them, with the real logging setup.

argv: SITE_TOML KEYRING_SERVICE EXPECTED_PHOTOS. Exits 0 once the photos are in the vault.
"""

from __future__ import annotations

import sys
import threading
import time

from picsafe_desktop import config, logsetup
from picsafe_desktop.importer.dropfolder import DropFolderWatcher
from picsafe_desktop.services import Services


def main() -> int:
    site = config.load(sys.argv[1])
    logsetup.configure(site)
    services = Services.open_vault(site, sys.argv[2])
    expected = int(sys.argv[3])
    done = threading.Event()

    def on_batch(folder, candidates):
        services.import_dropped(folder, candidates)
        if len(services.vault.list_items()) >= expected:
            done.set()

    import_settings = getattr(site, "import")
    watcher = DropFolderWatcher(
        import_settings.drop_folders,
        stable_seconds=import_settings.stable_seconds,
        on_batch=on_batch,
        on_refusals=lambda folder, refusals: None,
    )
    watcher.start()
    try:
        ok = done.wait(120)
    finally:
        watcher.stop()
        time.sleep(0.2)
        services.close()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
