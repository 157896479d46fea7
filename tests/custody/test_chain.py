"""Invariants of the hash chain (Hypothesis)."""

from __future__ import annotations

import dataclasses
import hashlib
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from earwitness.custody.chain import (
    GENESIS,
    canonical_json,
    check_chain,
    entry_from_dict,
    entry_hash,
    entry_to_dict,
    seal,
)
from earwitness.custody.records import AuditEntry

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
drafts = st.lists(
    st.tuples(
        st.sampled_from(["ingest", "duplicate", "analysis", "export"]),
        st.one_of(st.none(), st.text("0123456789abcdef", min_size=16, max_size=16)),
        st.dictionaries(st.text(max_size=8), json_values, max_size=4),
    ),
    min_size=1,
    max_size=8,
)


def _build(items: list[tuple[str, str | None, dict[str, object]]]) -> list[AuditEntry]:
    out: list[AuditEntry] = []
    prev = GENESIS
    for seq, (action, item_id, details) in enumerate(items, start=1):
        e = seal(
            seq=seq,
            at=f"2026-11-25T00:00:{seq:02d}Z",
            action=action,
            item_id=item_id,
            actor="u@h",
            details=details,
            prev_hash=prev,
        )
        out.append(e)
        prev = e.hash
    return out


@settings(max_examples=60, deadline=None)
@given(drafts)
def test_built_chain_checks_and_round_trips(items):
    chain = _build(items)
    assert check_chain(chain) == (len(chain), None)
    again = [entry_from_dict(json.loads(json.dumps(entry_to_dict(e)))) for e in chain]
    assert again == chain


@settings(max_examples=60, deadline=None)
@given(drafts, st.data())
def test_any_single_change_is_detected(items, data):
    chain = _build(items)
    i = data.draw(st.integers(0, len(chain) - 1))
    kind = data.draw(st.sampled_from(["drop", "actor", "details", "swap"]))
    mutated = list(chain)
    first_bad = i + 1  # the seq of the first entry the check must name
    if kind == "drop":
        del mutated[i]
        if not mutated or i == len(chain) - 1:
            return  # cutting the tail is caught by audit.head, not by the chain alone
        reason = "missing"
    elif kind == "actor":
        mutated[i] = dataclasses.replace(chain[i], actor="someone else")
        reason = "edited"
    elif kind == "details":
        mutated[i] = dataclasses.replace(chain[i], details={**chain[i].details, "x": 1})
        if chain[i].details.get("x") == 1:
            return
        reason = "edited"
    else:
        if len(chain) < 2:
            return
        j = (i + 1) % len(chain)
        mutated[i], mutated[j] = chain[j], chain[i]
        first_bad = min(i, j) + 1  # holds a later entry: the expected one looks missing
        reason = "missing"
    checked, problem = check_chain(mutated)
    assert problem is not None
    assert (problem.seq, checked) == (first_bad, first_bad), problem
    assert reason in problem.reason


def test_hash_is_sha256_of_canonical_json():
    e = seal(
        seq=1,
        at="t",
        action="ingest",
        item_id=None,
        actor="u@h",
        details={"b": "é", "a": [1, 2]},
        prev_hash=GENESIS,
    )
    body = canonical_json({k: v for k, v in entry_to_dict(e).items() if k != "hash"})
    assert body.startswith(b'{"action":"ingest","actor":"u@h","at":"t","details":{"a":[1,2]')
    assert "é".encode() in body
    assert e.hash == hashlib.sha256(body).hexdigest() == entry_hash(e)


def test_details_are_made_plain_json():
    from pathlib import Path

    import numpy as np

    e = seal(
        seq=1,
        at="t",
        action="x",
        item_id=None,
        actor="a",
        details={
            "n": np.float32(0.5),
            "v": np.arange(2),
            "p": Path("/a"),
            "bad": float("nan"),
            "s": {2, 1},
            "t": (1, "b"),
        },
        prev_hash=GENESIS,
    )
    assert e.details == {"n": 0.5, "v": [0, 1], "p": "/a", "bad": "nan", "s": [1, 2], "t": [1, "b"]}
    assert entry_hash(e) == e.hash
