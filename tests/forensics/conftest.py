"""Helpers for the forensic tests: run one stage on a file like the pipeline does."""

from __future__ import annotations

from pathlib import Path

import pytest

from earwitness.decode import probe
from earwitness.pipeline.context import AnalysisContext


@pytest.fixture
def make_ctx():  # type: ignore[no-untyped-def]
    def _make(path: Path) -> AnalysisContext:
        return AnalysisContext(path=path, probe=probe(path), sha256="0" * 64, item_id="test")

    return _make
