"""Fills the English plural forms of the source catalogue (called by scripts/update-translations).

Source strings name a count as "%n photo(s)"; English, like every language, gets its forms from
the catalogue: "1 photo", "2 photos" ("entry(s)" -> "entries"). Only empty forms are filled, so a
hand-written English form is kept.
"""

from __future__ import annotations

import re
import sys
import xml.etree.ElementTree as ET


def forms(source: str) -> tuple[str, str]:
    one = source.replace("(s)", "")
    many = re.sub(r"y\(s\)", "ies", source).replace("(s)", "s")
    return one, many


def fill(path: str) -> None:
    tree = ET.parse(path)  # noqa: S314 - our own catalogue, written by lupdate
    for message in tree.iter("message"):
        if message.get("numerus") != "yes":
            continue
        translation = message.find("translation")
        found = translation.findall("numerusform")
        if any(not (f.text or "").strip() for f in found):
            for f in found:
                translation.remove(f)
            for text in forms(message.findtext("source")):
                ET.SubElement(translation, "numerusform").text = text
            translation.attrib.pop("type", None)
    # Always rewritten, so the file's layout does not depend on whether lupdate ran before.
    ET.indent(tree, space="    ")
    with open(path, "wb") as out:
        out.write(b'<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE TS>\n')
        tree.write(out, encoding="utf-8", xml_declaration=False)
        out.write(b"\n")


if __name__ == "__main__":
    for name in sys.argv[1:]:
        fill(name)
