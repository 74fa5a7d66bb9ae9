"""Orthanc as the hospital's worklist/PACS, and worklist entries the tests write (issue 16)."""

from __future__ import annotations

from pathlib import Path

from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from tests.export_tools import Orthanc, free_port, orthanc_plugin, require

CALLING_AET = "PICSAFE"
STOW_USER, STOW_PASSWORD = "ward-pc", "test-only-password"


def start_hospital_orthanc(root: Path) -> Orthanc:
    worklists = root / "worklists"
    worklists.mkdir()
    commit_port = free_port()
    server = Orthanc(
        root,
        require("Orthanc"),
        plugins=(orthanc_plugin("ModalityWorklists"), orthanc_plugin("OrthancDicomWeb")),
        Worklists={"Enable": True, "Database": str(worklists)},
        DicomWeb={"Enable": True, "Root": "/dicom-web/"},
        DicomModalities={"picsafe": [CALLING_AET, "127.0.0.1", commit_port]},
        AuthenticationEnabled=True,  # DICOMweb behind HTTP basic auth, as a hospital runs it
        RegisteredUsers={STOW_USER: STOW_PASSWORD},
    )
    server.worklists = worklists
    server.commit_port = commit_port
    return server


def write_worklist(folder: Path, name: str = "entry", **fields: str) -> Path:
    """One worklist entry (.wl, a DICOM file) as a RIS would publish it; `fields` override."""
    v = {
        "mrn": "MRN-4711", "patient_name": "Doe^Jane", "birth_date": "19800214", "sex": "F",
        "accession": "ACC-2026-0001", "accession_issuer": "WARD-RIS",
        "procedure": "Wound photography", "procedure_code": "WOUNDPHOTO",
        "referring": "House^Gregory", "admission": "ADM-991",
    }  # fmt: skip
    v.update(fields)
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = "1.2.276.0.7230010.3.1.0.1"  # worklist file
    ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.PatientID = v["mrn"]
    ds.PatientName = v["patient_name"]
    ds.PatientBirthDate = v["birth_date"]
    ds.PatientSex = v["sex"]
    ds.AccessionNumber = v["accession"]
    issuer = Dataset()
    issuer.LocalNamespaceEntityID = v["accession_issuer"]
    ds.IssuerOfAccessionNumberSequence = Sequence([issuer])
    ds.ReferringPhysicianName = v["referring"]
    ds.RequestedProcedureDescription = v["procedure"]
    code = Dataset()
    code.CodeValue = v["procedure_code"]
    code.CodingSchemeDesignator = "99WARD"
    code.CodeMeaning = v["procedure"]
    ds.RequestedProcedureCodeSequence = Sequence([code])
    ds.RequestedProcedureID = "RP1"
    ds.AdmissionID = v["admission"]
    ds.StudyInstanceUID = generate_uid()
    step = Dataset()
    step.Modality = "XC"
    step.ScheduledStationAETitle = CALLING_AET
    step.ScheduledProcedureStepStartDate = "20261201"
    step.ScheduledProcedureStepDescription = v["procedure"]
    ds.ScheduledProcedureStepSequence = Sequence([step])
    path = folder / f"{name}.wl"
    ds.save_as(path, enforce_file_format=True)
    return path
