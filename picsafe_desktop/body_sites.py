"""Body sites picked on the body map: a region and a side, coded in SNOMED CT (no Qt, no I/O).

The body map (picsafe_desktop/resources/body-map.svg) names each clickable region
`<view>_<region>[_<side>]`, e.g. `front_forearm_left`. A pick becomes the photo
metadata's `body_site`: {"code": SNOMED CT body structure or None, "display",
"laterality": "left" | "right" | "bilateral" | None, "text"} - the shape the exports
read for FHIR bodySite and DICOM Anatomic Region. Free text is the fallback for
anything the map does not show.
"""

from __future__ import annotations

# region -> (SNOMED CT body structure code, display). Paired regions take a laterality.
REGIONS: dict[str, tuple[str, str]] = {
    "head": ("69536005", "Head"),
    "face": ("89545001", "Face"),
    "scalp": ("41695006", "Scalp"),
    "neck": ("45048000", "Neck"),
    "chest": ("51185008", "Thorax"),
    "abdomen": ("818983003", "Abdomen"),
    "back": ("77568009", "Back"),
    "lower_back": ("37822005", "Lower back"),
    "sacrum": ("54735007", "Sacrum"),
    "buttock": ("46862004", "Buttock"),
    "perineum": ("38864007", "Perineum"),
    "shoulder": ("16982005", "Shoulder"),
    "upper_arm": ("40983000", "Upper arm"),
    "elbow": ("127949000", "Elbow"),
    "forearm": ("14975008", "Forearm"),
    "hand": ("85562004", "Hand"),
    "hip": ("29836001", "Hip"),
    "thigh": ("68367000", "Thigh"),
    "knee": ("72696002", "Knee"),
    "lower_leg": ("30021000", "Lower leg"),
    "foot": ("56459004", "Foot"),
    "heel": ("76853006", "Heel"),
}
PAIRED = frozenset(
    {"shoulder", "upper_arm", "elbow", "forearm", "hand", "hip", "thigh", "knee", "lower_leg",
     "foot", "heel", "buttock"}
)  # fmt: skip
SIDES = ("left", "right", "bilateral")


def parse_region_id(element_id: str) -> tuple[str, str, str | None] | None:
    """`front_forearm_left` -> ("front", "forearm", "left"); None for other ids."""
    parts = element_id.split("_")
    if len(parts) < 2 or parts[0] not in ("front", "back"):
        return None
    side = parts[-1] if parts[-1] in SIDES else None
    region = "_".join(parts[1:-1] if side else parts[1:])
    return (parts[0], region, side) if region in REGIONS else None


def from_region(region: str, side: str | None = None) -> dict:
    """The coded body site for a region of the map and, for paired parts, a side."""
    if region not in REGIONS:
        raise ValueError(f"unknown body region {region!r}")
    if side is not None and side not in SIDES:
        raise ValueError(f"laterality must be one of {', '.join(SIDES)}")
    code, display = REGIONS[region]
    laterality = side if region in PAIRED else None
    text = f"{laterality} {display.lower()}" if laterality else display.lower()
    return {"code": code, "display": display, "laterality": laterality, "text": text}


def from_text(text: str) -> dict | None:
    """Free text when the map has no region for it: carried as text, never guessed at."""
    text = " ".join(text.split())
    if not text:
        return None
    return {"code": None, "display": text, "laterality": None, "text": text}


def remember(recent: list[dict], site: dict, keep: int = 8) -> list[dict]:
    """Recent sites, most recent first, without duplicates (for the picker's short list)."""
    others = [s for s in recent if s.get("text") != site.get("text")]
    return [site, *others][:keep]
