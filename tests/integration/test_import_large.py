"""Large photos go through the one import pipeline without being held in memory
(issue 17: a 505 MB JPEG took 1.05 GB): read in place through a verified snapshot, scrubbed
as a stream, encrypted, verified and hashed in chunks."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from picsafe_desktop.deid import scrub
from picsafe_desktop.importer import files
from picsafe_desktop.importer.events import Outcome
from picsafe_desktop.importer.files import FileCandidate, scan_paths
from picsafe_desktop.importer.pipeline import Importer, import_paths
from picsafe_desktop.vault import Vault
from tests.importer_support import make_vault, small_jpegs, unique_jpeg
from tests.unit.deid_synthetic import big_noise_jpeg

pytestmark = [pytest.mark.keyring]
ACTOR = "test:nurse"
REPO = Path(__file__).resolve().parents[2]
MB = 1 << 20


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _content(vault, item_id: str) -> bytes:
    return b"".join(vault.open_stream(item_id))


# The import in a fresh interpreter, so its own peak (VmHWM) is what is measured.
_CHILD = """
import json, sys
from picsafe_desktop.importer.pipeline import import_paths
from picsafe_desktop.vault import Vault
with Vault.open(sys.argv[1], sys.argv[2]) as vault:
    result = import_paths(vault, [sys.argv[3]], actor="test:nurse")
with open("/proc/self/status") as f:
    peak = int(next(x for x in f if x.startswith("VmHWM:")).split()[1]) * 1024
print(json.dumps({"peak": peak, "outcomes": [r.outcome.value for r in result.results],
                  "messages": [r.message for r in result.results]}))
"""


@pytest.mark.slow
def test_a_large_jpeg_imports_in_less_memory_than_its_own_size(tmp_path, keyring_service):
    if not Path("/proc/self/status").exists():
        pytest.skip("peak-memory measurement needs Linux /proc")
    drop = tmp_path / "drop"
    drop.mkdir()
    path = drop / "big.jpg"
    size = big_noise_jpeg(path, 150, width=8192)
    original = path.read_bytes()
    expected = scrub(original).data  # the in-memory scrub of the same file
    make_vault(tmp_path / "vault", keyring_service).close()
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(tmp_path / "vault"), keyring_service, str(drop)],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout)
    assert report["outcomes"] == ["imported"], report["messages"]
    # Before streaming: the original plus the clean copy (2x the file). Now a few MB of
    # blocks, chunks and a 1/8-scale check decode, whatever the file's size.
    assert report["peak"] < min(size, 150 * MB), f"peak {report['peak'] / MB:.0f} MB"
    assert not path.exists()  # wiped after the verified store
    with Vault.open(tmp_path / "vault", keyring_service) as vault:
        item_id = vault.find_original(_sha(original))
        assert item_id is not None
        assert _sha(_content(vault, item_id)) == _sha(expected)
        assert vault.read_metadata(item_id)["clean_sha256"] == _sha(expected)
        assert vault.read_thumbnail(item_id)[:2] == b"\xff\xd8"


@pytest.fixture
def vault(tmp_path, keyring_service):
    v = make_vault(tmp_path / "vault", keyring_service)
    yield v
    v.close()


@pytest.mark.corpus
def test_a_file_read_in_place_is_stored_scrubbed_verified_and_wiped(tmp_path, vault, monkeypatch):
    """The streamed path (what a file above STREAM_ABOVE takes), on ordinary photos."""
    monkeypatch.setattr(files, "STREAM_ABOVE", 0)
    drop = tmp_path / "drop"
    drop.mkdir()
    originals = {}
    for i, src in enumerate(small_jpegs()[:2]):
        data = unique_jpeg(src.read_bytes(), f"s{i}")
        (drop / f"patient {i}.jpg").write_bytes(data)
        originals[i] = data
    result = import_paths(vault, [drop], actor=ACTOR)
    assert [r.outcome for r in result.results] == [Outcome.IMPORTED] * 2
    assert list(drop.iterdir()) == []
    for data in originals.values():
        item_id = vault.find_original(_sha(data))
        assert _content(vault, item_id) == scrub(data).data
        assert vault.read_metadata(item_id)["clean_sha256"] == _sha(scrub(data).data)
        assert vault.read_thumbnail(item_id)[:2] == b"\xff\xd8"
    assert vault.journal_entries() == []


class _RewrittenAfterReading(FileCandidate):
    """A large file that someone rewrites (same size, same time) right after the first pass."""

    def open(self, stream_above=None):
        snap = super().open(stream_above=0)
        st = os.stat(self.path)
        with open(self.path, "r+b") as f:
            f.seek(st.st_size // 2)  # inside the entropy-coded data
            byte = f.read(1)
            f.seek(st.st_size // 2)
            f.write(bytes([byte[0] ^ 0x55]))
        os.utime(self.path, ns=(st.st_atime_ns, st.st_mtime_ns))
        return snap


@pytest.mark.corpus
def test_a_file_rewritten_during_import_is_left_in_place_and_nothing_stored(tmp_path, vault):
    drop = tmp_path / "drop"
    drop.mkdir()
    path = drop / "patient.jpg"
    path.write_bytes(unique_jpeg(small_jpegs()[0].read_bytes(), "r"))
    found = scan_paths([path]).candidates[0]
    cand = _RewrittenAfterReading(found.path, found.stamp)
    result = Importer(vault, actor=ACTOR).run([cand], source_label="Drop")
    (only,) = result.results
    assert only.outcome == Outcome.FAILED
    assert "changed while it was being imported" in only.message
    assert "left in place" in only.message
    assert path.stat().st_size > 0  # left in place, not wiped
    assert vault.list_items() == []
    assert vault.journal_entries() == []
    assert not any((vault.path / "tmp").iterdir())
