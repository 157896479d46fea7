"""``verify``: re-hash every original and check the audit chain end to end."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from earwitness.custody.chain import check_chain
from earwitness.custody.objects import is_sha256, sha256_file
from earwitness.errors import StoreError

if TYPE_CHECKING:
    from earwitness.custody.store import EvidenceStore


@dataclass(frozen=True)
class Problem:
    """One integrity failure. ``subject`` names the item (``item <id>``) or entry
    (``audit entry <seq>``) or file concerned."""

    kind: str
    subject: str
    message: str

    def __str__(self) -> str:
        return f"{self.subject}: {self.message}"


@dataclass(frozen=True)
class VerifyReport:
    """Outcome of :meth:`EvidenceStore.verify`. ``ok`` is True when ``problems`` is empty;
    ``notes`` are harmless leftovers (e.g. an orphan object from a killed ingest)."""

    root: str
    items_checked: int
    entries_checked: int
    head_seq: int | None
    problems: tuple[Problem, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_problem(self) -> Problem | None:
        return self.problems[0] if self.problems else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "root": self.root,
            "items_checked": self.items_checked,
            "entries_checked": self.entries_checked,
            "head_seq": self.head_seq,
            "problems": [
                {"kind": p.kind, "subject": p.subject, "message": p.message} for p in self.problems
            ],
            "notes": list(self.notes),
        }


def verify_store(store: EvidenceStore) -> VerifyReport:
    problems: list[Problem] = []
    notes: list[str] = []

    # Order matters under concurrent writers: the head file first, then the items, then the
    # chain; every item or head seen was committed before the entries are read.
    try:
        head_file = store.read_head_file()
    except StoreError as exc:
        head_file = None
        problems.append(Problem("head", "audit.head", str(exc)))
    items = store.catalog.items()
    entries = list(store.catalog.audit_entries())

    checked, chain_problem = check_chain(entries)
    if chain_problem is not None:
        problems.append(Problem("chain", f"audit entry {chain_problem.seq}", chain_problem.reason))
    last = entries[-1] if entries else None

    if head_file is None:
        if last is not None and not problems:
            notes.append(
                "audit.head is missing (written after the first commit; a crash "
                "right after it?); it is rewritten on the next write"
            )
    elif last is None or head_file.seq > last.seq:
        have = last.seq if last else 0
        problems.append(
            Problem(
                "chain",
                f"audit entry {have + 1}",
                f"missing: audit.head records {head_file.seq} entries but the log ends at {have} "
                "(entries deleted from the end)",
            )
        )
    else:
        at = next((e for e in entries if e.seq == head_file.seq), None)
        if at is None or at.hash != head_file.hash:
            problems.append(
                Problem(
                    "chain",
                    f"audit entry {head_file.seq}",
                    "does not match the hash recorded in audit.head (entry replaced)",
                )
            )
        elif head_file.seq < last.seq:
            notes.append(
                f"audit.head lags the log ({head_file.seq} < {last.seq}); a crash "
                "after a commit? It is updated on the next write"
            )

    ingests: dict[str, dict[str, Any]] = {}
    for e in entries:
        if e.action == "ingest" and e.item_id is not None:
            ingests.setdefault(e.item_id, dict(e.details))
    known: set[str] = set()
    for item in items:
        known.add(item.sha256)
        subject = f"item {item.id}"
        path = store.original_path(item)
        if not path.is_file():
            problems.append(Problem("original", subject, f"original missing ({path})"))
        else:
            try:
                digest = sha256_file(path)
            except OSError as exc:
                problems.append(Problem("original", subject, f"original unreadable ({exc})"))
            else:
                if digest != item.sha256:
                    problems.append(
                        Problem(
                            "original",
                            subject,
                            f"original altered: its SHA-256 is now {digest}, not {item.sha256}",
                        )
                    )
            if path.stat().st_mode & 0o222:
                notes.append(f"{subject}: original is writable (expected mode 0444)")
        entry = ingests.get(item.id)
        if entry is None:
            problems.append(Problem("catalog", subject, "has no ingest entry in the audit log"))
        elif entry.get("sha256") != item.sha256 or entry.get("size") != item.size:
            problems.append(
                Problem(
                    "catalog", subject, "catalog row disagrees with its ingest entry (sha256/size)"
                )
            )

    for path in store.objects.iter_objects():
        if path.name in known:
            continue
        if is_sha256(path.name) and path == store.objects.path_for(path.name):
            notes.append(
                f"orphan object {path.name} (no catalog row: an ingest killed before "
                "its commit); a re-ingest of the same file adopts it"
            )
        else:
            notes.append(f"unexpected file in objects/: {path}")
    for temp in store.objects.stale_temps():
        notes.append(f"leftover temporary copy {temp.name} (removed when the store is opened)")

    return VerifyReport(
        root=str(store.root),
        items_checked=len(items),
        entries_checked=checked,
        head_seq=last.seq if last else None,
        problems=tuple(problems),
        notes=tuple(notes),
    )
