"""The reliability page is written from the records a run leaves."""

from __future__ import annotations

from pathlib import Path

from tests.reliability import table
from tests.reliability.report import ENV, record


def test_records_become_rows_and_missing_parts_say_not_run(tmp_path: Path, monkeypatch) -> None:
    records = tmp_path / "records.jsonl"
    monkeypatch.setenv(ENV, str(records))
    record("kills", "add", tried=10, survived=9, not_reached=1,
           reproduce="pytest 'tests/reliability/test_x.py::test_y[add]'")  # fmt: skip
    record("kills", "add", tried=5, survived=5)
    record("kills", "gc", tried=3, survived=3, data_lost=0)
    page = tmp_path / "reliability.md"
    assert table.main([str(records), str(page)]) == 0
    text = page.read_text()
    # The kills row sums both commands, and names the test file to run.
    summary = "| 18 | 17 | 1 | 0 | `pytest tests/reliability/test_x.py -m 'slow or not slow'` |"
    assert summary in text
    assert "| add | 15 | 14 | 1 | 0 | `pytest 'tests/reliability/test_x.py::test_y[add]'` |" in text
    assert "| gc | 3 | 3 | 0 | 0 |  |" in text
    assert "| parsers |" in text and "not run" in text


def test_no_records_is_an_error_and_leaves_the_page(tmp_path: Path) -> None:
    page = tmp_path / "reliability.md"
    page.write_text("old")
    assert table.main([str(tmp_path / "none.jsonl"), str(page)]) == 1
    assert page.read_text() == "old"


def test_without_the_variable_nothing_is_written(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv(ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    record("kills", "add", 1, 1)
    assert list(tmp_path.iterdir()) == []
