"""report.html in headless Chromium: it renders, reads, and its script runs offline."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from matplotlib import image as mpimg

from earwitness.analysis import AnalysisOutcome

pytestmark = pytest.mark.browser

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--mute-audio",
]


@pytest.fixture(scope="module")
def chromium() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        pytest.skip("chromium is not on PATH")
    return exe


def _run(exe: str, tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [exe, *FLAGS, f"--user-data-dir={tmp / 'profile'}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)


def test_screenshot_is_not_blank(chromium: str, analyzed: AnalysisOutcome, tmp_path: Path) -> None:
    png = tmp_path / "shot.png"
    url = Path(analyzed.report_html).resolve().as_uri()
    proc = _run(chromium, tmp_path, f"--screenshot={png}", "--window-size=1280,2000", url)
    assert png.is_file(), proc.stderr[-2000:]
    assert png.stat().st_size > 20_000
    img = mpimg.imread(png)[..., :3]
    assert img.shape[:2] == (2000, 1280)
    # a page of text, tables and pictures: many distinct tones, not one flat colour
    assert float(np.std(img)) > 0.05
    dark = np.mean(img, axis=-1) < 0.5
    assert 0.01 < float(dark.mean()) < 0.6


def test_dom_after_scripts_has_the_findings_table(
    chromium: str, analyzed: AnalysisOutcome, tmp_path: Path
) -> None:
    url = Path(analyzed.report_html).resolve().as_uri()
    proc = _run(chromium, tmp_path, "--dump-dom", url)
    dom = proc.stdout
    assert '<table id="findings" data-ready="1">' in dom, proc.stderr[-2000:]
    for f in analyzed.report["findings"]:
        assert f'<tr id="{f["id"]}"' in dom
    assert '<audio id="player"' in dom
