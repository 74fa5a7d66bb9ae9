"""Connections to the hospital's own systems: patient lookup (worklist, FHIR), DICOMweb, storage
commitment. Each is a small Qt-free module; services.py and the CLI call them."""
