"""After a realistic session, the vault folder holds no patient name, MRN, photo bytes or
image/EXIF signatures anywhere: not in blobs, index, WAL, header or temp files."""

import random

import pytest

from picsafe_desktop.model import ItemState
from tests.unit.vault_support import MRN, PATIENT_NAME, folder_bytes, jpeg_with_exif, new_vault

pytestmark = pytest.mark.keyring
# Long enough never to occur by chance in random ciphertext.
SIGNATURES = [
    b"Exif\x00\x00",
    b"JFIF\x00",
    b"http://ns.adobe.com/xap/1.0/",
    b"ftypheic",
    b"ftypmif1",
    b"\x89PNG\r\n\x1a\n",
]


def jpeg_starts(data: bytes) -> list[int]:
    """Offsets of FF D8 FF that really start a JPEG: SOI, a marker segment, then the next marker.
    (Three bytes alone turn up in megabytes of ciphertext by chance; this shape does not.)"""
    hits = []
    at = data.find(b"\xff\xd8\xff")
    while at != -1:
        head = data[at + 3 : at + 6]
        if len(head) == 3 and (head[0] >= 0xC0 and head[0] != 0xFF):
            length = int.from_bytes(head[1:3], "big")
            nxt = at + 4 + length
            if length >= 2 and nxt < len(data) and data[nxt] == 0xFF:
                hits.append(at)
        at = data.find(b"\xff\xd8\xff", at + 1)
    return hits


def leaks(root, secrets: list[bytes], originals: list[bytes]) -> list[str]:
    found = []
    rng = random.Random(1)
    windows = [
        o[s : s + 32]
        for o in originals
        for s in rng.sample(range(len(o) - 32), min(100, len(o) - 32))
    ]
    for path, data in folder_bytes(root).items():
        for value in secrets + SIGNATURES:
            if value in data:
                found.append(f"{path.name}: {value!r}")
        if jpeg_starts(data):
            found.append(f"{path.name}: JPEG start at {jpeg_starts(data)}")
        if any(w in data for w in windows):
            found.append(f"{path.name}: bytes of an original photo")
    return found


def test_jpeg_start_detector_finds_real_jpegs():
    photo = jpeg_with_exif()
    assert jpeg_starts(b"junk" + photo) == [4]
    assert jpeg_starts(b"\xff\xd8\xff\x00" + bytes(40)) == []  # not a marker
    assert jpeg_starts(b"\xff\xd8\xff\xe1\x00\x10" + bytes(40)) == []  # no marker after APP1


def test_vault_folder_holds_no_patient_data_or_photo_signatures(tmp_path, keyring_service):
    name = PATIENT_NAME.encode()
    secrets = [name, name.upper(), PATIENT_NAME.encode("utf-16-le"), MRN.encode(), b"1962-03-04"]
    photos = [jpeg_with_exif(f"{PATIENT_NAME} {MRN}", size=(300 + n, 200)) for n in range(3)]
    thumb = jpeg_with_exif(PATIENT_NAME, size=(32, 24))
    for photo in photos + [thumb]:
        assert name in photo and b"Exif\x00\x00" in photo and jpeg_starts(photo)

    vault, _ = new_vault(tmp_path, keyring_service)
    batch = vault.create_batch(f"{PATIENT_NAME}'s iPhone", actor="Nurse Ratched")
    items = [
        vault.put(
            p,
            batch_id=batch,
            media_type="image/jpeg",
            thumbnail=thumb,
            metadata={"patient_name": PATIENT_NAME, "mrn": MRN, "birth_date": "1962-03-04"},
            original_sha256=None,
            actor="Nurse Ratched",
        )
        for p in photos
    ]
    record = {"patient": {"name": PATIENT_NAME, "mrn": MRN, "birth_date": "1962-03-04"}}
    consent = vault.put_consent(batch, record, mrn=MRN, actor="Dr Who")
    vault.set_state(items, ItemState.ACTIVE, consent_id=consent, actor="Dr Who")
    vault.read(items[0], actor="Dr Who")
    vault.update_metadata(items[1], {"patient_name": PATIENT_NAME, "note": "healing"}, actor="Dr")
    vault.journal_set("e1", "read", {"source": f"/media/DCIM/{PATIENT_NAME}.jpg"})
    vault.delete(items[2], actor="Dr Who", reason="blurred")
    assert vault.find_by_mrn(MRN) == [consent]

    assert leaks(vault.path, secrets, photos + [thumb]) == []  # open: WAL and SHM present
    vault.close()
    assert leaks(vault.path, secrets, photos + [thumb]) == []


@pytest.mark.corpus
def test_real_phone_photos_leave_no_trace(tmp_path, keyring_service, corpus):
    names = [
        "canon-eos-7d-serial-person-xmp-iptc__Canon-EOS-7D.jpg",
        "iphone4-gps__Apple-iPhone-4.jpg",
        "nokia-n70-iptc-exifthumb__iptc.jpg",
        "iphone7-gps-thumb__IMG_2682.heic",
        "png-exif-gps-text-xmp__png_with_exif_and_gps.png",
    ]
    originals = [(corpus / n).read_bytes() for n in names]
    vault, _ = new_vault(tmp_path, keyring_service)
    batch = vault.create_batch("corpus", actor="t")
    for data in originals:
        item = vault.put(
            data,
            batch_id=batch,
            media_type="image/jpeg",
            thumbnail=data[:20000],
            metadata={},
            actor="t",
        )
        assert vault.read(item, actor="t") == data
    vault.close()
    assert leaks(vault.path, [b"Canon EOS 7D", b"iPhone 4"], originals) == []
