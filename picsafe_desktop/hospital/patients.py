"""Ask every configured source (worklist, FHIR) about one MRN: one rule for GUI and CLI."""

from __future__ import annotations

from dataclasses import dataclass, field

from picsafe_desktop.hospital.lookup import LookupError, PatientMatch, agrees, merged_order


@dataclass
class LookupResult:
    mrn: str
    matches: list[PatientMatch] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # sources that could not be asked
    asked: list[str] = field(default_factory=list)  # sources configured and asked

    @property
    def found(self) -> bool:
        return bool(self.matches)

    @property
    def checked(self) -> bool:
        """At least one source answered (found or not): the entry was checked against it."""
        return len(self.problems) < len(self.asked)

    @property
    def consistent(self) -> bool:
        return agrees(self.matches)

    def order_fields(self) -> dict[str, str] | None:
        """The order/encounter context in the consent JSON form (`order`), or None."""
        import dataclasses

        order = merged_order(self.matches) if self.consistent else None
        return {k: v for k, v in dataclasses.asdict(order).items() if v} if order else None

    def person(self) -> PatientMatch | None:
        """The one person every source agrees on, preferring a worklist entry (it has the order)."""
        if not self.matches or not self.consistent:
            return None
        return next((m for m in self.matches if m.source == "worklist"), self.matches[0])


def configured_sources(site) -> list[str]:
    from picsafe_desktop.export import targets
    from picsafe_desktop.hospital import sites

    names = []
    if sites.worklist_peer(site) is not None:
        names.append("worklist")
    fhir = getattr(site, "fhir", None)
    if targets.fhir_target(site) is not None and getattr(fhir, "patient_lookup", False):
        names.append("fhir")  # opt-in: an export server need not answer Patient searches
    return names


def lookup(site, mrn: str) -> LookupResult:
    """Every source's answer for `mrn`; a source that fails is a problem, not an exception,
    so one answering source is enough. No source configured raises LookupError."""
    from picsafe_desktop.export import targets
    from picsafe_desktop.hospital import pdq, sites, worklist

    mrn = mrn.strip()
    result = LookupResult(mrn=mrn, asked=configured_sources(site))
    if not result.asked:
        raise LookupError(
            "no patient lookup source is configured: set [worklist] ae_title and host, or "
            "[fhir] base_url with patient_lookup = true, in the site config (docs/hospital.md)"
        )
    if "worklist" in result.asked:
        try:
            result.matches += worklist.find(sites.worklist_peer(site), mrn)
        except LookupError as exc:
            result.problems.append(f"worklist: {exc}")
    if "fhir" in result.asked:
        system = getattr(site.fhir, "mrn_system", "")
        try:
            result.matches += pdq.find(targets.fhir_target(site), system, mrn)
        except LookupError as exc:
            result.problems.append(f"FHIR: {exc}")
    return result
