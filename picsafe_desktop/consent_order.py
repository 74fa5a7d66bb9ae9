"""Issue 16 fields of a consent record: the identity check and the order/encounter context.

JSON form (`import --consent`, the dialog): `"identity_check": "confirmed" | "not_checked"` and
`"order": {"accession_number": ..., ...}` (keys as OrderContext). Stored inside the encrypted
consent record only; never in plain index columns.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any

from picsafe_desktop.model import IdentityCheck, OrderContext

ORDER_KEYS = tuple(f.name for f in dataclasses.fields(OrderContext))
_UID_RE = re.compile(r"(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))+")


def is_uid(value: str) -> bool:
    """A DICOM UID (PS3.5 9.1): dotted decimal numbers without leading zeros, 64 at most."""
    return len(value) <= 64 and bool(_UID_RE.fullmatch(value))


NOT_CHECKED_TEXT = "Patient identity NOT CHECKED against the hospital record (entered offline)"


def parse(check: Any, fields: Mapping[str, Any]) -> dict[str, Any]:
    """`identity_check` and `order` from the JSON form; problems go to `check` (consent.py)."""
    out: dict[str, Any] = {}
    value = fields.get("identity_check")
    if value is not None:
        try:
            out["identity_check"] = IdentityCheck(value)
        except ValueError:
            check.add("identity_check", 'Identity check must be "confirmed" or "not_checked".')
    order = fields.get("order")
    if order is not None:
        given = check.obj(order, "order", ORDER_KEYS, '{"accession_number": "..."}')
        values = {
            key: check.text(given.get(key), f"order.{key}", key.replace("_", " "), max_len=200)
            for key in ORDER_KEYS
        }
        if values["study_uid"] and not is_uid(values["study_uid"]):
            check.add("order.study_uid", "The order's Study Instance UID is not a DICOM UID.")
        if any(values.values()):
            out["order"] = OrderContext(**values)
    return out


def to_dict(record: Any) -> dict[str, Any]:
    return {
        "identity_check": record.identity_check.value if record.identity_check else None,
        "order": dataclasses.asdict(record.order) if record.order else None,
    }


def from_dict(d: Mapping[str, Any]) -> dict[str, Any]:
    check, order = d.get("identity_check"), d.get("order")
    return {
        "identity_check": IdentityCheck(check) if check else None,
        "order": OrderContext(**{k: str(order.get(k) or "") for k in ORDER_KEYS})
        if order
        else None,
    }
