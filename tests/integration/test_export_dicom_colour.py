"""Colour cases of the peer review (issue 14), judged by dciodvfy and a real Orthanc."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import pydicom
import pytest
from PIL import Image, ImageCms

from picsafe_desktop.export import dicom
from tests import export_data as d
from tests.export_tools import AET, require

CANON_444 = "canon-eos-7d-serial-person-xmp-iptc__Canon-EOS-7D.jpg"  # YCbCrSubSampling 1 1


def _dciodvfy_errors(path) -> list[str]:
    done = subprocess.run([require("dciodvfy"), str(path)], capture_output=True, text=True)
    lines = (done.stdout + done.stderr).splitlines()
    assert "VLPhotographicImage" in lines
    return [ln for ln in lines if ln.startswith("Error")]


def _export(tmp_path, data: bytes, name: str):
    (ds,) = dicom.build_datasets(d.batch(photos=[d.photo("a", data)]))
    path = tmp_path / f"{name}.dcm"
    path.write_bytes(dicom.to_bytes(ds))
    return path


def _rgb(img: Image.Image) -> bytes:
    return img.convert("RGB").tobytes()


def _cmyk_jpeg(icc: bytes | None = None) -> bytes:
    rgb = Image.open(io.BytesIO(d.synthetic_jpeg(160, 120)))
    out = io.BytesIO()
    rgb.convert("CMYK").save(out, "JPEG", quality=90, **({"icc_profile": icc} if icc else {}))
    return out.getvalue()


def test_unsubsampled_jpeg_goes_out_as_its_decoded_rgb_pixels(tmp_path):
    """Was: Photometric Interpretation YBR_FULL in a VL Photographic Image; dciodvfy:
    "Unrecognized enumerated value <YBR_FULL>"."""
    scrubbed = d.scrubbed_corpus_jpeg(CANON_444)
    if scrubbed is None:
        pytest.skip("photo corpus not found")
    path = _export(tmp_path, scrubbed, "canon")
    assert _dciodvfy_errors(path) == []
    ds = pydicom.dcmread(path)
    assert ds.PhotometricInterpretation == "RGB"
    assert ds.file_meta.TransferSyntaxUID == pydicom.uid.ExplicitVRLittleEndian
    assert ds.LossyImageCompression == "01"  # it was a JPEG once, and that stays said
    with Image.open(io.BytesIO(scrubbed)) as img:
        # exactly the decode of the vault's JPEG: no second lossy generation
        assert (ds.Rows, ds.Columns) == (img.height, img.width)
        assert ds.PixelData[: img.width * img.height * 3] == _rgb(img)


def test_cmyk_jpeg_is_converted_to_rgb_for_dicom(tmp_path):
    """Was: refused with "4 colour components; DICOM needs 1 or 3" and no advice."""
    data = _cmyk_jpeg()
    path = _export(tmp_path, data, "cmyk")
    assert _dciodvfy_errors(path) == []
    ds = pydicom.dcmread(path)
    assert (ds.PhotometricInterpretation, ds.SamplesPerPixel) == ("RGB", 3)
    with Image.open(io.BytesIO(data)) as img:
        assert ds.PixelData == _rgb(img)
    shown = Image.frombytes("RGB", (ds.Columns, ds.Rows), bytes(ds.PixelData))
    r, g, b = shown.getpixel((10, 10))  # the red top-left block is still red, not inverted
    assert r > 150 and g < 100 and b < 100


def test_cmyk_jpeg_with_its_icc_profile_goes_through_it_to_srgb(tmp_path):
    profile = Path("/usr/share/color/icc/ghostscript/default_cmyk.icc")  # Debian ghostscript
    if not profile.is_file():
        pytest.skip("no CMYK ICC profile installed")
    icc = profile.read_bytes()
    data = _cmyk_jpeg(icc)
    path = _export(tmp_path, data, "cmyk-icc")
    assert _dciodvfy_errors(path) == []
    ds = pydicom.dcmread(path)
    assert ds.PhotometricInterpretation == "RGB"
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    assert bytes(ds.ICCProfile) == srgb  # the pixels are now sRGB, and say so
    with Image.open(io.BytesIO(data)) as img:
        expected = ImageCms.profileToProfile(
            img,
            ImageCms.ImageCmsProfile(io.BytesIO(icc)),
            ImageCms.createProfile("sRGB"),
            outputMode="RGB",
        )
        assert ds.PixelData == expected.tobytes()


def test_greyscale_jpeg_keeps_its_bytes_and_passes_dciodvfy(tmp_path):
    out = io.BytesIO()
    Image.new("L", (200, 150), 128).save(out, "JPEG")
    path = _export(tmp_path, out.getvalue(), "grey")
    assert _dciodvfy_errors(path) == []
    ds = pydicom.dcmread(path)
    assert ds.PhotometricInterpretation == "MONOCHROME2"
    assert ds.file_meta.TransferSyntaxUID == pydicom.uid.JPEGBaseline8Bit


def test_decoded_rgb_reaches_orthanc_as_sent(orthanc, tmp_path):
    scrubbed = d.scrubbed_corpus_jpeg(CANON_444) or _cmyk_jpeg()
    orthanc.clear()
    pacs = dicom.PacsTarget(AET, "127.0.0.1", orthanc.dicom_port, timeout=20)
    batch = d.batch(photos=[d.photo("a", scrubbed), d.photo("b", _cmyk_jpeg())])
    result = dicom.send(batch, pacs)
    assert len(result.sent) == 2
    for instance in orthanc.get("/instances?expand"):
        tags = orthanc.get(f"/instances/{instance['ID']}/simplified-tags")
        assert tags["PhotometricInterpretation"] == "RGB"


def _png16_rgb(width: int = 96, height: int = 64) -> bytes:
    """A 16-bit-per-sample RGB PNG (Pillow cannot write one), built chunk by chunk."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    rows = b"".join(
        b"\x00" + b"".join(struct.pack(">HHH", x * 600, y * 900, 40000) for x in range(width))
        for y in range(height)
    )
    header = struct.pack(">IIBBBBB", width, height, 16, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def _png16_grey() -> bytes:
    out = io.BytesIO()
    Image.new("I;16", (80, 60), 30000).save(out, "PNG")
    return out.getvalue()


@pytest.mark.parametrize("make", [_png16_rgb, _png16_grey], ids=["rgb16", "grey16"])
def test_16_bit_png_exports_to_an_object_dciodvfy_accepts(tmp_path, make):
    """The review found the 16-bit PNG fine; this keeps it so (export goes through to_jpeg)."""
    from picsafe_desktop.deid import scrub, to_jpeg

    png = make()
    with Image.open(io.BytesIO(png)) as img:
        size = img.size
    path = _export(tmp_path, to_jpeg(scrub(png).data), make.__name__)
    assert _dciodvfy_errors(path) == []
    ds = pydicom.dcmread(path)
    assert (ds.Columns, ds.Rows) == size and ds.BitsStored == 8


def test_cmyk_photo_in_the_pdf_is_drawn_as_rgb_and_stays_pdfa(tmp_path):
    """Was: the PDF embedded the CMYK JPEG as DeviceCMYK; PDFBox Preflight: "2.4.2 : Invalid
    Color space, DestOutputProfile isn't CMYK ColorSpace" (the output intent is sRGB)."""
    from picsafe_desktop.export import pdf
    from tests.export_tools import pdfbox_preflight

    batch = d.batch(photos=[d.photo("c", _cmyk_jpeg())])
    path = tmp_path / "cmyk.pdf"
    path.write_bytes(pdf.render_report(batch))
    assert pdfbox_preflight(path) == []
    prefix = tmp_path / "page"
    subprocess.run(
        [require("pdftoppm"), "-r", "40", "-f", "2", "-l", "2", "-png", "-singlefile",
         str(path), str(prefix)],
        check=True, capture_output=True,
    )  # fmt: skip
    page = Image.open(f"{prefix}.png").convert("RGB")
    row = [page.getpixel((x, page.height // 5)) for x in range(page.width)]
    assert any(r > 150 and g < 100 and b < 100 for r, g, b in row), "red block not red"


def test_cmyk_photo_goes_to_fhir_as_the_vault_bytes_and_medplum_takes_it():
    """FHIR (like the package) carries the file itself, not drawn pixels: the Binary is the
    vault's JPEG, byte for byte (a browser-based EHR viewer decodes CMYK JPEG itself)."""
    import base64

    from picsafe_desktop.export import fhir
    from tests.export_tools import MedplumEngine

    data = _cmyk_jpeg()
    batch = d.batch(photos=[d.photo("c", data)])
    bundle = fhir.build_bundle(batch, mrn_system="urn:oid:1.2.826.0.1.999.1")
    binaries = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Binary"]
    assert base64.b64encode(data).decode() in [b.get("data") for b in binaries]
    engine = MedplumEngine()
    try:
        target = fhir.FhirTarget(engine.base_url, token="engine-token", retries=0, timeout=60)
        result = fhir.send(batch, target, mrn_system="urn:oid:1.2.826.0.1.999.1")
        assert result.created > 0
        (media,) = engine.search("Media")
        assert media["content"]["contentType"] == "image/jpeg"
    finally:
        engine.stop()
