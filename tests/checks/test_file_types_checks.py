from __future__ import annotations

from acceptance.checks.file_types import FileTypesTracker, check_file_types_present


def record(url: object) -> dict:
    return {"type": "RECORD", "record": {"stream": "files", "data": {"_ab_source_file_url": url}, "emitted_at": 1}}


def test_tracker_collects_lower_cased_extensions_from_urls_and_paths() -> None:
    tracker = FileTypesTracker()
    for url in ["s3://b/a.CSV", "https://h/x/y.parquet?sig=1", "/local/z.jsonl", None, 3, "noext"]:
        tracker.feed(record(url))
    tracker.feed({"type": "STATE", "state": {}})
    assert tracker.extensions == {".csv", ".parquet", ".jsonl"}


def test_all_required_types_and_one_document_pass() -> None:
    assert check_file_types_present({".avro", ".csv", ".jsonl", ".parquet", ".md"}) == []


def test_missing_types_are_named() -> None:
    findings = check_file_types_present({".csv", ".pdf"})
    assert len(findings) == 1
    assert ".avro, .jsonl, .parquet" in findings[0].message and "unsupported_types" in findings[0].message


def test_no_document_type_fails() -> None:
    findings = check_file_types_present({".avro", ".csv", ".jsonl", ".parquet"})
    assert len(findings) == 1 and "document file" in findings[0].message


def test_declared_unsupported_types_are_not_required() -> None:
    unsupported = [".AVRO", ".parquet", ".pdf", ".doc", ".docx", ".ppt", ".pptx", ".md"]
    assert check_file_types_present({".csv", ".jsonl"}, unsupported) == []
