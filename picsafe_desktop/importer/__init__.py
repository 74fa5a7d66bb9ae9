"""Sources that find photos (drop folders, mounted phones and cards, libgphoto2 devices,
drag-and-drop) and the one crash-safe pipeline that takes each into the vault and wipes its
source. See docs/import.md.

    importer = Importer(vault, actor=staff)
    importer.resume()                                    # at start-up: finish interrupted work
    result = import_paths(vault, paths, actor=staff, progress=callback)   # drag-and-drop
    result = importer.run(volume.scan(delete_after_import=...).candidates, source_label=...)

Everything here is Qt-free; sources report through plain callbacks.
"""

from picsafe_desktop.importer.dropfolder import DropFolderWatcher, Settler
from picsafe_desktop.importer.events import (
    BatchFinished,
    BatchResult,
    BatchStarted,
    EventCallback,
    FileDone,
    FileResult,
    ImportEvent,
    Outcome,
    ResumeReport,
)
from picsafe_desktop.importer.files import FileCandidate, Scan, scan_folder, scan_paths
from picsafe_desktop.importer.pipeline import Importer, import_paths
from picsafe_desktop.importer.source import Candidate, Refusal, RemoveError, SourceError
from picsafe_desktop.importer.volumes import Volume, VolumePoller, find_volumes
from picsafe_desktop.importer.wipe import WipeError, secure_wipe

__all__ = [
    "BatchFinished",
    "BatchResult",
    "BatchStarted",
    "Candidate",
    "DropFolderWatcher",
    "EventCallback",
    "FileCandidate",
    "FileDone",
    "FileResult",
    "ImportEvent",
    "Importer",
    "Outcome",
    "Refusal",
    "RemoveError",
    "ResumeReport",
    "Scan",
    "Settler",
    "SourceError",
    "Volume",
    "VolumePoller",
    "WipeError",
    "find_volumes",
    "import_paths",
    "scan_folder",
    "scan_paths",
    "secure_wipe",
]
