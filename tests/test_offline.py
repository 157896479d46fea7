"""Principle 3: nothing reaches the network at run time, whatever stages run."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest

from earwitness.analysis import analyze
from earwitness.custody.store import EvidenceStore
from earwitness.demo import write_demo_recording


@pytest.mark.slow
def test_analyze_opens_no_network_connection(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    attempts: list[Any] = []

    def refuse(self: socket.socket, address: Any) -> None:
        attempts.append(address)
        raise OSError(f"earwitness test: network use refused ({address!r})")

    def refuse_dns(*args: Any, **kwargs: Any) -> Any:
        attempts.append(args[:2])
        raise OSError("earwitness test: name resolution refused")

    path = tmp_path / "statement.m4a"
    write_demo_recording(path)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse_dns)
    with EvidenceStore.open(tmp_path / "store") as store:
        outcome = analyze(path, tmp_path / "out", store=store)
    assert attempts == []
    # every built-in stage ran or declined with a reason; none failed on a refused connection
    assert [r.name for r in outcome.runs if r.status == "failed"] == []
    assert (tmp_path / "out" / "report.html").is_file()
