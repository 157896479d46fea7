"""One analysed synthetic item (fake stages, real store), shared by the report tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from earwitness.analysis import AnalysisOutcome, analyze
from earwitness.custody.store import EvidenceStore
from tests.report.fakes import fake_registry, make_recording


@pytest.fixture(scope="module")
def analyzed(tmp_path_factory: pytest.TempPathFactory) -> AnalysisOutcome:
    base = tmp_path_factory.mktemp("analyzed")
    # module-scoped, so it cannot take the function-scoped ``rng`` fixture: same seed
    path = make_recording(base / "in.m4a", np.random.default_rng(20261125))
    with EvidenceStore.open(base / "store") as store:
        return analyze(
            path,
            base / "out",
            store=store,
            registry=fake_registry(),
            source="https://t.me/example/123",
        )


@pytest.fixture(scope="module")
def report_html(analyzed: AnalysisOutcome) -> str:
    return Path(analyzed.report_html).read_text(encoding="utf-8")
