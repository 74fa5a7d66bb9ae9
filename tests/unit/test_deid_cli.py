"""`picsafe-desktop scrub SRC DST` end to end through the real argument parser."""

from __future__ import annotations

import json

import piexif

from picsafe_desktop.cli import main
from tests.unit.deid_checks import assert_jpeg_allow_list, make_jpeg

SECRET = b"SECRET-SERIAL-4711"


def source(tmp_path, name="in.jpg"):
    path = tmp_path / name
    exif = piexif.dump({"Exif": {piexif.ExifIFD.BodySerialNumber: SECRET}})
    path.write_bytes(make_jpeg(exif=exif))
    return path


def test_scrub_writes_clean_copy_and_reports_counts(tmp_path, capsys):
    src = source(tmp_path)
    dst = tmp_path / "out.jpg"
    assert main(["scrub", "--json", str(src), str(dst)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["removed"]["jpeg:APP1 EXIF"] == 1
    assert report["pixels_preserved"] is True
    data = dst.read_bytes()
    assert SECRET not in data
    assert_jpeg_allow_list(data)
    assert SECRET in src.read_bytes()  # the source is never changed
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".part")] == []


def test_folder_destination_gets_the_right_extension(tmp_path):
    src = source(tmp_path, "photo.HEIC")  # wrong extension: content decides
    out = tmp_path / "out"
    out.mkdir()
    assert main(["scrub", str(src), str(out)]) == 0
    assert (out / "photo.jpg").is_file()


def test_same_file_refused(tmp_path, capsys):
    src = source(tmp_path)
    before = src.read_bytes()
    assert main(["scrub", str(src), str(tmp_path / "." / "in.jpg")]) == 2
    assert "is the source file itself" in capsys.readouterr().err
    assert src.read_bytes() == before


def test_bad_input_names_the_file_and_writes_nothing(tmp_path, capsys):
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(make_jpeg()[:300])
    dst = tmp_path / "out.jpg"
    assert main(["scrub", str(bad), str(dst)]) == 2
    err = capsys.readouterr().err
    assert str(bad) in err and "truncated" in err
    assert not dst.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.jpg"]


def test_missing_source_and_wrong_extension(tmp_path, capsys):
    assert main(["scrub", str(tmp_path / "nope.jpg"), str(tmp_path / "o.jpg")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main(["scrub", str(source(tmp_path)), str(tmp_path / "o.png")]) == 2
    assert "name the output with .jpg" in capsys.readouterr().err


def test_existing_destination_is_replaced_whole(tmp_path):
    dst = tmp_path / "out.jpg"
    dst.write_bytes(b"old contents")
    assert main(["scrub", str(source(tmp_path)), str(dst)]) == 0
    assert dst.read_bytes()[:2] == b"\xff\xd8"
