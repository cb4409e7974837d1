"""File-based sources: the records show that every supported file type was read (reference §2.4)."""

from __future__ import annotations

from collections.abc import Collection
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlparse

from acceptance.findings import Finding
from acceptance.protocol.messages import record_of

FILE_URL_FIELD = "_ab_source_file_url"
REQUIRED_FILE_TYPES = (".avro", ".csv", ".jsonl", ".parquet")
DOCUMENT_FILE_TYPES = (".pdf", ".doc", ".docx", ".ppt", ".pptx", ".md")  # at least one of these


class FileTypesTracker:
    """Collects the extensions of the files records came from (`_ab_source_file_url`)."""

    def __init__(self) -> None:
        self.extensions: set[str] = set()

    def feed(self, message: dict[str, Any]) -> None:
        if message.get("type") != "RECORD":
            return
        data = record_of(message).get("data")
        url = data.get(FILE_URL_FIELD) if isinstance(data, dict) else None
        if isinstance(url, str) and url:
            suffix = PurePosixPath(urlparse(url).path or url).suffix.lower()
            if suffix:
                self.extensions.add(suffix)


def check_file_types_present(seen: Collection[str], unsupported: Collection[str] = ()) -> list[Finding]:
    """Records were read from every supported file type: .avro, .csv, .jsonl, .parquet and a document type."""
    excluded = {ext.lower() for ext in unsupported}
    seen_lower = {ext.lower() for ext in seen}
    missing = [ext for ext in REQUIRED_FILE_TYPES if ext not in excluded and ext not in seen_lower]
    findings = [
        Finding("file_types_present",
                f"no record came from a {', '.join(missing)} file (seen: {', '.join(sorted(seen_lower)) or 'none'}); "
                "add such files to the test data, or declare them in file_types.unsupported_types")
    ] if missing else []
    documents = [ext for ext in DOCUMENT_FILE_TYPES if ext not in excluded]
    if documents and not seen_lower & set(documents):
        findings.append(Finding("file_types_present",
                                f"no record came from a document file (one of {', '.join(documents)}); add one, or "
                                "declare the types in file_types.unsupported_types"))
    return findings
