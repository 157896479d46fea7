"""Watchlist normalisation, matching (Arabic and Latin) and storage."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from earwitness.errors import InputError
from earwitness.speech.options import Segment, Word
from earwitness.speech.watchlist import Watchlist, find_hits, normalise, tokens


def _seg(text: str, start: float = 0.0, end: float = 5.0) -> Segment:
    return Segment(start=start, end=end, text=text)


@pytest.mark.parametrize(
    ("variant", "plain"),
    [
        ("البَاغُوز", "الباغوز"),  # harakat
        ("البـــاغوز", "الباغوز"),  # tatweel
        ("أبو بكر البغدادي", "ابو بكر البغدادي"),  # hamza on alef
        ("إدلب", "ادلب"),
        ("مصطفى", "مصطفي"),  # alef maqsura / ya
        ("الدولة الإسلامية", "الدوله الاسلاميه"),  # ta marbuta
        ("Raqqa", "RAQQA"),
        ("Ḥamāh", "hamah"),
    ],
)
def test_normalisation_folds_variants(variant: str, plain: str) -> None:
    assert normalise(variant) == normalise(plain)


@given(st.text())
def test_normalise_is_idempotent(text: str) -> None:
    assert normalise(normalise(text)) == normalise(text)


def test_arabic_term_matches_variants_and_proclitics() -> None:
    segs = [
        _seg("وصلنا إلى البَاغُوز صباحاً", 0.0, 4.0),
        _seg("ومن الباغوز خرجوا", 4.0, 8.0),
        _seg("وفي باغوزستان لا", 8.0, 12.0),
        _seg("بالدولة الإسلامية", 12.0, 16.0),
    ]
    hits = find_hits(["الباغوز"], segs)
    assert [h.segment for h in hits] == [0, 1]
    hits = find_hits(["باغوز"], segs)
    assert [h.segment for h in hits] == [0, 1]  # "al-" is a proclitic; the -stan word is not
    hits = find_hits(["الدولة الاسلامية"], segs)
    assert [h.segment for h in hits] == [3]  # bi- + al-
    assert not hits[0].word_level


def test_latin_whole_word_and_fuzzy() -> None:
    segs = [_seg("Fighters left Baghuz and the country's border; countryside quiet.")]
    assert [h.matched for h in find_hits(["country"], segs)] == ["country's"]
    assert find_hits(["Baghouz"], segs) == []
    fuzzy = find_hits(["Baghouz"], segs, fuzzy=True)
    assert len(fuzzy) == 1 and 0.85 <= fuzzy[0].score < 1.0


def test_word_level_times_for_multiword_terms() -> None:
    words = (
        Word(" Abu", 1.0, 1.3, 0.9),
        Word(" Bakr", 1.3, 1.7, 0.9),
        Word(" spoke.", 1.8, 2.2, 0.9),
    )
    seg = Segment(start=1.0, end=2.2, text="Abu Bakr spoke.", words=words)
    (hit,) = find_hits(["abu bakr"], [seg])
    assert (hit.start, hit.end, hit.word_level, hit.score) == (1.0, 1.7, True, 1.0)


def test_terms_spanning_segments_are_found() -> None:
    segs = [_seg("in Deir", 0.0, 2.0), _seg("ez-Zor today", 2.0, 4.0)]
    (hit,) = find_hits(["Deir ez-Zor"], segs)
    assert (hit.start, hit.end) == (0.0, 4.0)


def test_storage_add_list_remove(tmp_path: Path) -> None:
    wl = Watchlist(tmp_path / "watchlist")
    assert wl.terms() == []
    assert wl.add(["Baghouz", "الباغوز", "  baghouz "]) == ["Baghouz", "الباغوز"]
    assert wl.add(["البَاغوز"]) == []  # same normalised form
    assert Watchlist(tmp_path / "watchlist").terms() == ["Baghouz", "الباغوز"]
    assert wl.remove("BAGHOUZ")
    assert not wl.remove("Raqqa")
    assert wl.terms() == ["الباغوز"]
    with pytest.raises(InputError, match="at least one letter"):
        wl.add(["..."])


def test_corrupt_watchlist_file_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / Watchlist.FILE).write_text("{not json")
    with pytest.raises(InputError, match=r"watchlist\.json"):
        Watchlist(tmp_path).terms()


def test_tokens_drop_punctuation() -> None:
    assert tokens("«الباغوز»، Raqqa!") == ["الباغوز", "raqqa"]
