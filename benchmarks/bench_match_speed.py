"""Archive matching: indexing speed, index size, and query time from 10 h to 1,000 h indexed.

Indexing speed is measured on real speech (decoding included) encoded as MP3 and FLAC. Large
archives are simulated: postings whose hash fields are drawn from the empirical marginal
distributions of real speech fingerprints (so frequent values stay frequent) and whose
positions are uniform over the archive's frame axis, at the measured postings-per-hour of
continuous real speech; the archive holds 1 h items. 10 s unrelated real-speech queries are
timed (fingerprinting + look-up + alignment); then the real references are added and 10 s
excerpts (clean and degraded) are looked up to measure recall at that archive size.

    nice .venv/bin/python benchmarks/bench_match_speed.py [--hours 10 100 1000]
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import match_data as md
from bench_match import add_dev_overrides, override_align
from earwitness.decode import load_audio
from earwitness.fingerprint import fingerprint, match_audio, match_fingerprint, open_index
from earwitness.fingerprint.features import _BITS, FingerprintParams
from earwitness.fingerprint.index import ITEM_GAP, write_segment
from earwitness.fingerprint.postings import (
    BLOCK_BITS,
    HASH_BITS,
    PackedSegment,
    packed_layout,
)
from earwitness.synth import encode_file


def indexing_speed(tmp: Path, refs: list[np.ndarray]) -> dict[str, float]:
    y = np.concatenate(refs * 2)
    out: dict[str, float] = {"audio_s": y.size / md.SR}
    # Warm-up (filter bank, FFT plans, first-call imports): an archive ingest is a batch, so
    # the steady-state rate is the one that matters; the one-off cost is about 0.5 s.
    fingerprint(
        y=load_audio(encode_file(tmp / "warm.flac", y[: 10 * md.SR], sr=md.SR), sr=8000).samples,
        sr=8000,
    )
    for codec in ("mp3", "flac"):
        path = encode_file(tmp / f"speech.{codec}", y, sr=md.SR, bitrate=64000)
        t0, c0 = time.perf_counter(), time.process_time()
        a = load_audio(path, sr=8000)
        t1 = time.perf_counter()
        fingerprint(y=a.samples, sr=a.sr)
        t2, c2 = time.perf_counter(), time.process_time()
        out[f"{codec}_x_realtime"] = a.duration_s / (t2 - t0)
        out[f"{codec}_x_realtime_cpu"] = a.duration_s / (c2 - c0)
        out[f"{codec}_decode_s"] = t1 - t0
        out[f"{codec}_fingerprint_s"] = t2 - t1
    return out


def hash_model(hashes: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Empirical marginal distribution of each packed hash field (values, probabilities)."""
    fields = []
    shift = sum(_BITS)
    for bits in _BITS:
        shift -= bits
        v = (hashes >> np.uint32(shift)) & np.uint32((1 << bits) - 1)
        vals, counts = np.unique(v, return_counts=True)
        fields.append((vals.astype(np.uint32), counts / counts.sum()))
    return fields


def sample_hashes(
    model: list[tuple[np.ndarray, np.ndarray]], n: int, rng: np.random.Generator
) -> np.ndarray:
    """Hashes whose fields are drawn independently from their real-speech marginals."""
    h = np.zeros(n, dtype=np.uint32)
    for (vals, prob), bits in zip(model, _BITS, strict=True):
        h = (h << np.uint32(bits)) | vals[rng.choice(vals.size, size=n, p=prob)]
    return h


def simulate(
    directory: Path,
    hours: float,
    model: list[tuple[np.ndarray, np.ndarray]],
    per_hour: float,
    rng: np.random.Generator,
) -> None:
    """Write an embedded index of ``hours`` 1-hour items with synthetic postings.

    Hashes come from a pool of 4M draws of ``model``; positions are uniform. Since positions
    are independent of hashes, the packed segment (``postings.pack``'s layout) is written
    directly from the hash counts, in chunks (no sort needed: within one hash the words may
    be in any order for the look-up's bucket search).
    """
    params = FingerprintParams()
    open_index(directory)  # creates the manifest
    frames_h = int(3600 / params.frame_s)
    n_items = int(hours)
    n = int(per_hour * hours)
    pool = sample_hashes(model, 1 << 22, rng)
    counts = np.zeros(1 << HASH_BITS, dtype=np.int64)
    chunk = 50_000_000
    for a in range(0, n, chunk):
        b = min(n, a + chunk)
        counts += np.bincount(pool[rng.integers(0, pool.size, b - a)], minlength=1 << HASH_BITS)
    next_pos = n_items * (frames_h + ITEM_GAP)
    blocks = np.arange(-(-next_pos // (1 << BLOCK_BITS)), dtype=np.uint32)  # all occupied
    lay = packed_layout(n_postings=n, n_blocks=blocks.size)
    words = np.empty(n, dtype=np.uint32)
    csum = np.r_[0, np.cumsum(counts)]
    step = 1 << 20
    for h0 in range(0, counts.size, step):
        lo, hi = int(csum[h0]), int(csum[h0 + step])
        if hi == lo:
            continue
        h = np.repeat(np.arange(h0, h0 + step, dtype=np.uint64), counts[h0 : h0 + step])
        item = rng.integers(0, n_items, hi - lo)
        pos = item * (frames_h + ITEM_GAP) + rng.integers(0, frames_h, hi - lo)
        low = h & np.uint64((1 << lay.low_bits) - 1)
        words[lo:hi] = (low << np.uint64(lay.pos_bits)) | pos.astype(np.uint64)
    bucket_counts = counts.reshape(1 << lay.dir_bits, -1).sum(axis=1)
    seg = PackedSegment(
        words=words,
        directory=np.r_[0, np.cumsum(bucket_counts)].astype(np.uint32),
        blocks=blocks,
        layout=lay,
    )
    rec = write_segment(directory, seg)
    del words, counts, seg
    man = json.loads((directory / "manifest.json").read_text())
    man["segments"] = [rec]
    man["items"] = {
        f"sim{k:05d}": {
            "sha256": f"{k:064x}",
            "duration_s": 3600.0,
            "start": k * (frames_h + ITEM_GAP),
            "n_frames": frames_h,
            "n_postings": int(per_hour),
        }
        for k in range(n_items)
    }
    man["next_pos"] = next_pos
    (directory / "manifest.json").write_text(json.dumps(man))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--hours", type=float, nargs="*", default=[10, 100, 1000])
    add_dev_overrides(ap, verify=False)
    args = ap.parse_args()
    override_align(args.align)
    rng = np.random.default_rng(3)
    refs, filler, _ = md.build()
    tmp = Path(tempfile.mkdtemp())
    speed = indexing_speed(tmp, refs)
    print("indexing:", {k: round(v, 3) for k, v in speed.items()})
    fps = [fingerprint(y=y, sr=md.SR) for y in refs]
    pool = np.concatenate([f.hashes for f in fps])
    secs = sum(y.size for y in refs) / md.SR
    per_hour_fsdd = pool.size / secs * 3600
    jfk = fingerprint(y=refs[-1][: 11 * md.SR], sr=md.SR)
    per_hour_dense = jfk.hashes.size / 11.0 * 3600
    per_hour = max(per_hour_fsdd, per_hour_dense)
    model = hash_model(pool)
    print(
        "| indexed | index size | 10 s query (median) | recall of 10 s excerpts at this "
        "size | false matches | peak RSS | note |"
    )
    print(
        f"postings/h: digits {per_hour_fsdd:.0f}, continuous speech (JFK) "
        f"{per_hour_dense:.0f}; simulating {per_hour:.0f}/h = "
        f"{per_hour * 4 / 1e6:.2f} MB/h of posting words"
    )
    conds = md.conditions(np.random.default_rng(5))
    scale_conds = [
        "clean",
        "mp3 32k",
        "white noise 10 dB",
        "music bed 5 dB",
        "speed +5%",
        "pitch +50 c",
    ]
    for hours in args.hours:
        d = tmp / f"sim{int(hours)}"
        d.mkdir()
        t0 = time.perf_counter()
        simulate(d, hours, model, per_hour, rng)
        build_s = time.perf_counter() - t0
        idx = open_index(d)
        size = idx.stats()["bytes"]
        times, cpu_times, fp_times, false = [], [], [], 0
        for k in range(10):
            y = filler[k % len(filler)][k : k + 10 * md.SR]
            t1, c1 = time.perf_counter(), time.process_time()
            q = fingerprint(y=y, sr=md.SR, query=True)
            t2 = time.perf_counter()
            res = match_fingerprint(query=q, index=idx)
            t3, c3 = time.perf_counter(), time.process_time()
            times.append(t3 - t1)
            cpu_times.append(c3 - c1)
            fp_times.append(t2 - t1)
            false += len(res.matches)
        # recall at this archive size: the real references added to the simulated archive
        for k, y in enumerate(refs):
            idx.add(
                item_id=f"ref{k}",
                sha256=f"{k:064x}",
                duration_s=y.size / md.SR,
                fp=fingerprint(y=y, sr=md.SR),
            )
        found = total = 0
        for name in scale_conds:
            for k in range(len(refs)):
                st = int(rng.uniform(0, refs[k].size / md.SR - 10) * md.SR)
                r = match_audio(y=conds[name](refs[k][st : st + 10 * md.SR]), sr=md.SR, index=idx)
                found += any(m.item_id == f"ref{k}" for m in r.matches)
                total += 1
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"| {hours:.0f} h | {size / 1e6:.0f} MB ({size / 1e6 / hours:.2f} MB/h) | "
            f"{np.median(times) * 1000:.0f} ms wall, {np.median(cpu_times) * 1000:.0f} ms CPU "
            f"(fingerprint {np.median(fp_times) * 1000:.0f} ms wall) | {found}/{total} | "
            f"{false}/10 | {rss:.0f} MB | build {build_s:.0f} s |",
            flush=True,
        )
        idx = None  # type: ignore[assignment]
        for f in d.glob("seg-*.npy"):
            f.unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main())
