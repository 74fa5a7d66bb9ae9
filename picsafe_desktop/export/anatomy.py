"""Free-text body sites to SNOMED CT codes for DICOM Anatomic Region and FHIR bodySite.

A short list of regions clinicians photograph most (from DICOM CID 4031 "Common Anatomic
Regions"); anything else travels as text under a local coding scheme rather than being guessed.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

SCT = "SCT"  # DICOM's designator for SNOMED CT
SNOMED_URI = "http://snomed.info/sct"
LOCAL_SCHEME = "99PICSAFE"  # "99" prefix = private coding scheme (PS3.3 8.2)

_REGIONS: dict[str, tuple[str, str]] = {
    "scalp": ("41695006", "Scalp"),
    "head": ("69536005", "Head"),
    "face": ("89545001", "Face"),
    "forehead": ("52795006", "Forehead"),
    "eye": ("81745001", "Eye"),
    "eyelid": ("80243003", "Eyelid"),
    "ear": ("117590005", "Ear"),
    "nose": ("45206002", "Nose"),
    "lip": ("48477009", "Lip"),
    "mouth": ("123851003", "Mouth"),
    "neck": ("45048000", "Neck"),
    "chest": ("51185008", "Thorax"),
    "thorax": ("51185008", "Thorax"),
    "breast": ("76752008", "Breast"),
    "abdomen": ("818983003", "Abdomen"),
    "back": ("77568009", "Back"),
    "trunk": ("22943007", "Trunk"),
    "sacrum": ("54735007", "Sacrum"),
    "sacral": ("54735007", "Sacrum"),
    "buttock": ("46862004", "Buttock"),
    "perineum": ("38864007", "Perineum"),
    "shoulder": ("16982005", "Shoulder"),
    "upper arm": ("40983000", "Upper arm"),
    "arm": ("53120007", "Upper limb"),
    "upper limb": ("53120007", "Upper limb"),
    "elbow": ("127949000", "Elbow"),
    "forearm": ("14975008", "Forearm"),
    "wrist": ("8205005", "Wrist"),
    "hand": ("85562004", "Hand"),
    "finger": ("7569003", "Finger"),
    "thumb": ("76505004", "Thumb"),
    "hip": ("29836001", "Hip"),
    "thigh": ("68367000", "Thigh"),
    "knee": ("72696002", "Knee"),
    "lower leg": ("30021000", "Lower leg"),
    "leg": ("30021000", "Lower leg"),
    "shin": ("30021000", "Lower leg"),
    "lower limb": ("61685007", "Lower limb"),
    "ankle": ("344001", "Ankle"),
    "foot": ("56459004", "Foot"),
    "heel": ("76853006", "Heel"),
    "toe": ("29707007", "Toe"),
    "skin": ("39937001", "Skin"),
}

_LATERALITY: dict[str, tuple[str, str, str]] = {
    "left": ("7771000", "Left", "L"),
    "right": ("24028007", "Right", "R"),
    "bilateral": ("51440002", "Right and left", "B"),
    "both": ("51440002", "Right and left", "B"),
}


@dataclass(frozen=True)
class BodySite:
    text: str
    code: str
    meaning: str
    scheme: str  # SCT or LOCAL_SCHEME
    laterality: tuple[str, str, str] | None = None  # (SNOMED code, meaning, DICOM L/R/B)

    @property
    def coded(self) -> bool:
        return self.scheme == SCT


def _words(text: str) -> str:
    return " " + " ".join(re.findall(r"[a-z]+", text.lower())) + " "


def lookup(text: str) -> BodySite | None:
    """Best coded match for a free-text site, or a local code carrying the text; None if empty."""
    text = " ".join(text.split())
    if not text:
        return None
    words = _words(text)
    laterality = next((v for k, v in _LATERALITY.items() if f" {k} " in words), None)
    # Longest phrase wins: "forearm" over "arm", "lower leg" over "leg". Plural "s" allowed.
    for key in sorted(_REGIONS, key=len, reverse=True):
        if f" {key} " in words or f" {key}s " in words:
            code, meaning = _REGIONS[key]
            return BodySite(text, code, meaning, SCT, laterality)
    local = "BS" + hashlib.sha256(text.lower().encode()).hexdigest()[:14].upper()
    return BodySite(text, local, text[:64], LOCAL_SCHEME, laterality)


def resolve(coded: dict | None, text: str) -> BodySite | None:
    """The body site of a photo: the ward's coded pick when present, else the free text.

    `coded` is the photo metadata's `body_site` dict: {"code": SNOMED CT body structure,
    "display", "laterality": "left"|"right"|"bilateral"|None, "text"}.
    """
    if isinstance(coded, dict) and str(coded.get("code") or "").strip().isdigit():
        code = str(coded["code"]).strip()
        display = str(coded.get("display") or "").strip() or code
        words = str(coded.get("text") or "").strip()
        side = coded.get("laterality")
        laterality = _LATERALITY.get(str(side).lower()) if side else None
        if not words:
            words = f"{side} {display.lower()}" if laterality else display
        return BodySite(words, code, display, SCT, laterality)
    return lookup(text)


def snomed_expression(site: BodySite) -> tuple[str, str]:
    """(code, display) for FHIR: the body structure post-coordinated with its laterality.

    SNOMED CT compositional grammar: `<structure>:272741003=<side>` (272741003 |Laterality|),
    the refinement SNOMED's concept model defines for lateralisable body structures.
    """
    if not site.laterality:
        return site.code, site.meaning
    side_code, side_meaning, _ = site.laterality
    side_word = "Left and right" if side_code == "51440002" else side_meaning
    return f"{site.code}:272741003={side_code}", f"{side_word} {site.meaning.lower()}"
