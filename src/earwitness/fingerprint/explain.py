"""``match --explain``: matched landmarks over both spectrograms, and the offset histogram."""

from __future__ import annotations

import io

import numpy as np

from earwitness.fingerprint.features import FingerprintParams, log_spectrogram
from earwitness.fingerprint.matcher import ArchiveMatch, MatchResult


def explain_png(
    *,
    result: MatchResult,
    match: ArchiveMatch,
    query_y: np.ndarray,
    ref_y: np.ndarray | None,
    params: FingerprintParams,
) -> bytes:
    """A PNG with three panels: query spectrogram, reference spectrogram (when its audio is
    available) with the matched landmarks linked, and the histogram of hit offsets
    ``ref_t - speed * query_t`` for the matched item (one spike = one alignment)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    a = match.alignment
    fs = params.frame_s
    fig, axes = plt.subplots(3, 1, figsize=(11, 9))
    # anchor band of each matched query landmark (the reference band is drawn at the same
    # height: a pitch or speed change shifts it by at most about 2 bands)
    bands = np.zeros(0)
    if a is not None and result.query is not None and result.query.t1.size:
        q = result.query
        order = np.argsort(q.t1, kind="stable")
        k = np.clip(np.searchsorted(q.t1[order], a.inlier_q.astype(np.uint32)), 0, order.size - 1)
        bands = q.feats[order[k], 0]
    for ax, y, title, times in (
        (axes[0], query_y, "query", a.inlier_q if a is not None else np.zeros(0)),
        (
            axes[1],
            ref_y,
            f"reference {match.item_id}",
            a.inlier_ref if a is not None else np.zeros(0),
        ),
    ):
        if y is not None and y.size:
            spec = log_spectrogram(y=y, params=params)
            ax.imshow(
                spec.T,
                origin="lower",
                aspect="auto",
                cmap="magma",
                extent=(0, spec.shape[0] * fs, 0, spec.shape[1]),
                vmin=float(np.percentile(spec, 30)),
                vmax=float(spec.max()),
            )
        else:
            ax.text(
                0.5,
                0.5,
                "audio not available (imported fingerprints)",
                transform=ax.transAxes,
                ha="center",
            )
        ax.scatter(times * fs, bands, s=14, facecolors="none", edgecolors="cyan", linewidths=1)
        ax.set_ylabel("log-frequency band")
        ax.set_title(f"{title}: {times.size} matched landmarks (cyan circles: anchor peaks)")
    axes[0].axvspan(match.query_start_s, match.query_end_s, color="cyan", alpha=0.15)
    axes[1].axvspan(match.ref_start_s, match.ref_end_s, color="cyan", alpha=0.15)
    axes[1].set_xlabel("time (s)")
    hits = result.hits
    ax = axes[2]
    if hits is not None and a is not None:
        sel = hits.item == a.item
        off = (hits.ref_t[sel] - a.speed * hits.q_t[sel]) * fs
        ax.hist(off, bins=max(10, min(400, sel.sum() // 2 + 1)), color="gray")
        ax.axvline(
            a.offset * fs,
            color="red",
            linestyle="--",
            label=f"alignment: offset {a.offset * fs:.2f} s, speed {a.speed:.3f}",
        )
        ax.legend()
    ax.set_xlabel("offset ref_t - speed * query_t (s)")
    ax.set_ylabel("hits")
    ax.set_title(
        f"score {match.score:.1f} (expected chance matches {match.expected_false_matches:.2g})"
    )
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    plt.close(fig)
    return buf.getvalue()
