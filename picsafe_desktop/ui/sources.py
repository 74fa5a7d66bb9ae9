"""Adapts the importer's background watchers (plain callbacks on their threads) to Qt signals."""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Signal

log = logging.getLogger(__name__)


class SourceMonitor(QObject):
    """Drop folders from the site config and mounted phones/cards, delivered on the GUI thread.

    Signals are emitted from the watcher threads; Qt queues them to this object's thread.
    """

    volume_appeared = Signal(object)  # importer.volumes.Volume
    volume_gone = Signal(object)
    drop_batch = Signal(object, object)  # folder Path, list[FileCandidate]
    drop_refusals = Signal(object, object)  # folder Path, list[Refusal]

    def __init__(self, site, parent=None, *, mount_roots=None) -> None:
        super().__init__(parent)
        from picsafe_desktop.importer.dropfolder import DropFolderWatcher
        from picsafe_desktop.importer.volumes import VolumePoller

        settings = getattr(site, "import")
        self.drop_watcher = None
        if settings.drop_folders:
            self.drop_watcher = DropFolderWatcher(
                settings.drop_folders,
                stable_seconds=settings.stable_seconds,
                on_batch=self.drop_batch.emit,
                on_refusals=self.drop_refusals.emit,
            )
        self.volume_poller = VolumePoller(
            on_appeared=self.volume_appeared.emit,
            on_gone=self.volume_gone.emit,
            roots=mount_roots,
            poll_seconds=settings.device_poll_seconds,
        )

    def start(self) -> None:
        if self.drop_watcher is not None:
            self.drop_watcher.start()
        self.volume_poller.start()

    def stop(self) -> None:
        if self.drop_watcher is not None:
            self.drop_watcher.stop()
        self.volume_poller.stop()
