"""Exports into the medical record: PDF report, FHIR R4, DICOM, encrypted package."""
