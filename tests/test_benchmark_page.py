"""Each benchmark rewrites only its own section of docs/benchmarks.md, so
`make bench` no longer drops the API and registry figures or the prose between."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from benchmarks.frame import PROJECT, write_section


def test_a_section_is_replaced_and_the_rest_kept(tmp_path: Path) -> None:
    page = tmp_path / "benchmarks.md"
    write_section(page, "main", "# Benchmarks\n\nold main")
    write_section(page, "api", "## Python API\n\nold api")
    page.write_text(page.read_text() + "\n### Notes written by hand\n")
    write_section(page, "main", "# Benchmarks\n\nnew main")
    text = page.read_text()
    assert "new main" in text and "old main" not in text
    assert text.index("new main") < text.index("old api") < text.index("written by hand")


def test_the_page_in_the_docs_has_every_section_marked() -> None:
    text = (PROJECT / "docs" / "benchmarks.md").read_text()
    for name in ("main", "api", "registry"):
        assert f"<!-- begin {name}: generated -->" in text and f"<!-- end {name} -->" in text


def test_the_side_benchmarks_take_the_shared_options() -> None:
    for module in ("benchmarks.api_bench", "benchmarks.registry_bench"):
        out = subprocess.run(
            [sys.executable, "-m", module, "--help"], capture_output=True, text=True, check=True
        ).stdout
        assert "--docs" in out and "--from-json" in out
