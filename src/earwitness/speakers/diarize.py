"""Diarization: cluster window embeddings into speakers and lay out who speaks when.

Method: agglomerative hierarchical clustering of window d-vectors with average linkage on
cosine distance, stopped at ``merge_distance`` (the d-vector + clustering recipe of Wang et al.
2018, "Speaker diarization with LSTM", ICASSP; average linkage as in Sell & Garcia-Romero 2014,
"Speaker diarization with PLDA i-vector scoring and unsupervised calibration", IEEE SLT). For
long recordings at most ``max_cluster_windows`` evenly spaced windows are clustered and the
rest assigned to the nearest centroid, so memory stays bounded. Labels are smoothed by a
majority filter and turns are cut at the midpoint between window centres.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage

from earwitness.speakers.windows import WindowEmbeddings, mean_vector


@dataclass(frozen=True)
class DiarizationParams:
    """Tunable parameters (recorded in the report)."""

    merge_distance: float = 0.3
    max_cluster_windows: int = 2000
    smooth_windows: int = 3
    min_speaker_windows: int = 2
    bridge_s: float = 0.5


@dataclass(frozen=True)
class Turn:
    start_s: float
    end_s: float
    speaker: str


@dataclass(frozen=True)
class SpeakerCluster:
    """One diarized speaker: ``label`` (S1, S2... by first appearance), unit ``centroid``,
    ``speech_s`` (total turn time), ``n_windows`` and ``cohesion`` (mean cosine of its
    windows to the centroid)."""

    label: str
    centroid: np.ndarray
    speech_s: float
    n_windows: int
    cohesion: float


@dataclass(frozen=True)
class Diarization:
    turns: tuple[Turn, ...]
    speakers: tuple[SpeakerCluster, ...]
    window_labels: np.ndarray

    @property
    def speaker_count(self) -> int:
        return len(self.speakers)


def _cluster(vectors: np.ndarray, threshold: float) -> np.ndarray:
    if len(vectors) == 1:
        return np.zeros(1, dtype=np.int64)
    z = linkage(vectors.astype(np.float64), method="average", metric="cosine")
    return np.asarray(fcluster(z, t=threshold, criterion="distance"), dtype=np.int64) - 1


def _assign(vectors: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    out = np.empty(len(vectors), dtype=np.int64)
    for i in range(0, len(vectors), 4096):
        out[i : i + 4096] = np.argmax(vectors[i : i + 4096] @ centroids.T, axis=1)
    return out


def _centroids(vectors: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    return np.stack([mean_vector(vectors[labels == c]) for c in range(k)])


def _smooth(labels: np.ndarray, width: int) -> np.ndarray:
    if width <= 1 or len(labels) < width:
        return labels
    half = width // 2
    out = labels.copy()
    for i in range(len(labels)):
        seg = labels[max(0, i - half) : i + half + 1]
        vals, counts = np.unique(seg, return_counts=True)
        best = vals[counts == counts.max()]
        out[i] = labels[i] if labels[i] in best else best[0]
    return out


def cluster_windows(*, vectors: np.ndarray, params: DiarizationParams | None = None) -> np.ndarray:
    """Cluster unit window vectors; returns labels 0..k-1 (see the module docstring)."""
    p = params or DiarizationParams()
    n = len(vectors)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    if n > p.max_cluster_windows:
        idx = np.linspace(0, n - 1, p.max_cluster_windows).round().astype(np.int64)
        sub = _cluster(vectors[idx], p.merge_distance)
        k = int(sub.max()) + 1
        labels = _assign(vectors, _centroids(vectors[idx], sub, k))
    else:
        labels = _cluster(vectors, p.merge_distance)
    labels = _smooth(labels, p.smooth_windows)
    # Fold clusters too small to be a speaker into their nearest neighbour.
    while True:
        ids, counts = np.unique(labels, return_counts=True)
        small = ids[counts < p.min_speaker_windows]
        if len(ids) <= 1 or len(small) == 0:
            break
        keep = ids[counts >= p.min_speaker_windows]
        if len(keep) == 0:
            break
        cents = np.stack([mean_vector(vectors[labels == c]) for c in keep])
        for c in small:
            m = labels == c
            labels[m] = keep[_assign(vectors[m], cents)]
    _, labels = np.unique(labels, return_inverse=True)
    # Re-assign each window to its nearest final centroid once (one k-means step).
    if labels.max() > 0:
        k = int(labels.max()) + 1
        labels = _smooth(_assign(vectors, _centroids(vectors, labels, k)), p.smooth_windows)
        _, labels = np.unique(labels, return_inverse=True)
    return labels.astype(np.int64)


def diarize(*, windows: WindowEmbeddings, params: DiarizationParams | None = None) -> Diarization:
    """Speakers and turns from window embeddings (see the module docstring for the method)."""
    p = params or DiarizationParams()
    if len(windows) == 0:
        return Diarization(turns=(), speakers=(), window_labels=np.zeros(0, np.int64))
    labels = cluster_windows(vectors=windows.vectors, params=p)
    # Order clusters by first appearance: S1 speaks first.
    order: list[int] = []
    for lab in labels:
        if int(lab) not in order:
            order.append(int(lab))
    remap = {old: new for new, old in enumerate(order)}
    labels = np.array([remap[int(x)] for x in labels], dtype=np.int64)
    centres = (windows.starts + windows.ends) / 2
    bounds = np.concatenate(
        [[windows.starts[0]], (centres[1:] + centres[:-1]) / 2, [windows.ends[-1]]]
    )
    raw: list[list[float]] = []
    raw_lab: list[int] = []
    for i, lab in enumerate(labels):
        s, e = float(bounds[i]), float(bounds[i + 1])
        if raw and raw_lab[-1] == lab and s - raw[-1][1] <= p.bridge_s:
            raw[-1][1] = e
        else:
            raw.append([s, e])
            raw_lab.append(int(lab))
    # Trim turns to the speech activity so silence is not counted as talk.
    act = list(windows.activity)
    turns: list[Turn] = []
    for (s, e), lab in zip(raw, raw_lab, strict=True):
        pieces = [(max(s, a), min(e, b)) for a, b in act if b > s and a < e]
        if not pieces:
            continue
        turns.append(Turn(pieces[0][0], pieces[-1][1], f"S{lab + 1}"))
    speakers = []
    for c in range(len(order)):
        m = labels == c
        cent = mean_vector(windows.vectors[m])
        label = f"S{c + 1}"
        speakers.append(
            SpeakerCluster(
                label=label,
                centroid=cent,
                speech_s=float(sum(t.end_s - t.start_s for t in turns if t.speaker == label)),
                n_windows=int(m.sum()),
                cohesion=float(np.mean(windows.vectors[m] @ cent)),
            )
        )
    return Diarization(turns=tuple(turns), speakers=tuple(speakers), window_labels=labels)
