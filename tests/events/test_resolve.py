"""Cross-detector resolution: tails, music and explosion debris are not separate events."""

from __future__ import annotations

from earwitness.events.base import DetectedEvent, resolve


def _ev(label: str, start: float, end: float, layer: str = "dsp", **details: int) -> DetectedEvent:
    return DetectedEvent(
        label=label, start_s=start, end_s=end, score=0.5, detector="d", layer=layer, details=details
    )


def test_sustained_tail_of_an_explosion_is_dropped() -> None:
    boom = _ev("explosion", 2.0, 3.5)
    tail = _ev("vehicle", 2.1, 4.0)
    plane = _ev("aircraft", 6.0, 12.0)
    assert resolve([boom, tail, plane]) == [boom, plane]


def test_music_wins_over_a_sustained_segment() -> None:
    tune = _ev("music", 1.0, 8.0)
    drone_ = _ev("aircraft", 0.5, 8.5)
    assert resolve([tune, drone_]) == [tune]


def test_debris_inside_an_explosion_is_not_gunfire_but_a_burst_is() -> None:
    boom = _ev("explosion", 2.0, 6.0)
    debris = _ev("gunfire", 2.5, 2.6, shot_count=1)
    burst = _ev("gunfire", 3.0, 4.0, shot_count=6)
    assert resolve([boom, debris, burst]) == [boom, burst]


def test_tagger_events_are_never_removed() -> None:
    boom = _ev("explosion", 2.0, 3.5)
    tagged = _ev("vehicle", 2.1, 4.0, layer="tagger")
    assert resolve([boom, tagged]) == [boom, tagged]
