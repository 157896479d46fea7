"""The analyst's watchlist: names and phrases searched in transcripts and translations.

Matching works on normalised tokens. Normalisation: Unicode NFKC, case folding, removal of
combining marks (Latin accents and Arabic harakat, shadda, sukun, superscript alef, Quranic
marks), removal of tatweel, and Arabic letter variants folded (أ إ آ ٱ → ا, ى ی → ي, ة → ه,
ؤ → و, ئ → ي, ک → ك). A term matches a run of consecutive tokens; "whole-word-ish" means a
token equals the term's token, or carries an Arabic proclitic (و ف ب ك ل, the article ال and
their combinations such as وال بال لل) before it, or an English possessive after it.
``fuzzy`` additionally accepts tokens of four or more letters whose similarity ratio
(difflib's Ratcliff/Obershelp) is at least ``min_similarity``.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import tempfile
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from earwitness.errors import InputError
from earwitness.speech.options import Segment

_ARABIC_FOLD = str.maketrans(
    {
        "أ": "ا",
        "إ": "ا",
        "آ": "ا",
        "ٱ": "ا",
        "ى": "ي",
        "ی": "ي",
        "ئ": "ي",
        "ة": "ه",
        "ؤ": "و",
        "ک": "ك",
        "ـ": None,  # tatweel
        "’": "'",
        "‘": "'",
    }
)
_ARABIC_PROCLITICS = ("وال", "فال", "بال", "كال", "لل", "ال", "و", "ف", "ب", "ك", "ل")
_TOKEN = re.compile(r"[^\W_]+(?:'[^\W_]+)*")


def normalise(text: str) -> str:
    """Normalised form of ``text`` used for matching (see the module docstring)."""
    t = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text).casefold())
    t = "".join(c for c in t if not unicodedata.combining(c))
    t = unicodedata.normalize("NFC", t)
    return t.translate(_ARABIC_FOLD)


def tokens(text: str) -> list[str]:
    """Normalised word tokens of ``text`` (letters and digits; inner apostrophes kept)."""
    return _TOKEN.findall(normalise(text))


def _is_arabic(token: str) -> bool:
    return any("\u0600" <= c <= "\u06ff" for c in token)


def _token_score(token: str, want: str, *, fuzzy: bool, min_similarity: float) -> float:
    if token == want:
        return 1.0
    if _is_arabic(want):
        for pre in _ARABIC_PROCLITICS:
            if token.startswith(pre) and token[len(pre) :] == want:
                return 1.0
            if want.startswith("ال") and pre in ("و", "ف", "ب", "ك") and token == pre + want:
                return 1.0
        if want.startswith("ال") and token.startswith("لل") and token[2:] == want[2:]:
            return 1.0
    elif token in (want + "'s", want + "s'"):
        return 1.0
    if fuzzy and len(want) >= 4 and len(token) >= 4:
        ratio = difflib.SequenceMatcher(None, token, want).ratio()
        if ratio >= min_similarity:
            return ratio
    return 0.0


@dataclass(frozen=True)
class TimedToken:
    """A normalised token with the time span of the word (or segment) it came from."""

    token: str
    start: float
    end: float
    word_level: bool
    segment: int


def timed_tokens(segments: Sequence[Segment]) -> list[TimedToken]:
    """Tokens of a transcript with word-level times where the segment has words."""
    out: list[TimedToken] = []
    for i, seg in enumerate(segments):
        if seg.words:
            for w in seg.words:
                out += [TimedToken(t, w.start, w.end, True, i) for t in tokens(w.word)]
        else:
            out += [TimedToken(t, seg.start, seg.end, False, i) for t in tokens(seg.text)]
    return out


@dataclass(frozen=True)
class Hit:
    """One occurrence of a term: time span, score (1.0 exact, else fuzzy similarity), the
    matched tokens, the index of the (first) segment, and whether the times are word-level."""

    term: str
    start: float
    end: float
    score: float
    matched: str
    segment: int
    word_level: bool


def find_hits(
    terms: Iterable[str],
    segments: Sequence[Segment],
    *,
    fuzzy: bool = False,
    min_similarity: float = 0.85,
) -> list[Hit]:
    """Every occurrence of every term in ``segments``, sorted by time."""
    stream = timed_tokens(segments)
    hits: list[Hit] = []
    for term in dict.fromkeys(terms):
        want = tokens(term)
        if not want:
            continue
        n = len(want)
        for i in range(len(stream) - n + 1):
            scores = [
                _token_score(
                    stream[i + k].token, want[k], fuzzy=fuzzy, min_similarity=min_similarity
                )
                for k in range(n)
            ]
            if min(scores) <= 0.0:
                continue
            run = stream[i : i + n]
            hits.append(
                Hit(
                    term=term,
                    start=run[0].start,
                    end=max(run[-1].end, run[0].start),
                    score=float(sum(scores) / n),
                    matched=" ".join(t.token for t in run),
                    segment=run[0].segment,
                    word_level=all(t.word_level for t in run),
                )
            )
    return sorted(hits, key=lambda h: (h.start, h.term))


class Watchlist:
    """Terms kept in ``<dir>/watchlist.json`` (a store's ``data_dir("watchlist")``).

    Terms are stored as typed; two terms with the same normalised form are one term.
    Writes are atomic (temporary file, then rename).
    """

    FILE = "watchlist.json"

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.path = self.directory / self.FILE

    def entries(self) -> list[dict[str, str]]:
        if not self.path.is_file():
            return []
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise InputError(self.path, f"watchlist file is not valid JSON ({exc})") from exc
        return [dict(e) for e in data.get("terms", [])]

    def terms(self) -> list[str]:
        return [e["term"] for e in self.entries()]

    def add(self, terms: Iterable[str]) -> list[str]:
        """Add terms; return those that were new."""
        entries = self.entries()
        known = {normalise(e["term"]).strip() for e in entries}
        added = []
        now = datetime.now(UTC).isoformat(timespec="seconds")
        for term in terms:
            term = " ".join(term.split())
            key = normalise(term).strip()
            if not tokens(term):
                raise InputError(term or "''", "a watchlist term needs at least one letter")
            if key in known:
                continue
            known.add(key)
            entries.append({"term": term, "added_at": now})
            added.append(term)
        if added:
            self._write(entries)
        return added

    def remove(self, term: str) -> bool:
        """Remove the term (compared in normalised form); return whether it was there."""
        key = normalise(" ".join(term.split())).strip()
        entries = self.entries()
        kept = [e for e in entries if normalise(e["term"]).strip() != key]
        if len(kept) == len(entries):
            return False
        self._write(kept)
        return True

    def _write(self, entries: list[dict[str, str]]) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".watchlist.", dir=self.directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump({"version": 1, "terms": entries}, f, ensure_ascii=False, indent=2)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
