"""Fetch the real sound effects used to validate the acoustic-event detectors.

Downloads three Debian packages with ``apt-get download`` (no installation, no root needed),
unpacks them with ``dpkg -x`` and writes the clips we use as 16-bit WAV files plus a manifest
(``benchmarks/data/sfx/manifest.json``) naming, for each clip, its label, source package, path
inside the package, author and licence. Nothing is committed: ``benchmarks/data/`` is
gitignored. The list of clips and their licences is reproduced in ``docs/events.md``.

Usage::

    python benchmarks/fetch_sfx.py            # into benchmarks/data/sfx
    python benchmarks/fetch_sfx.py --out DIR
"""

from __future__ import annotations

import argparse
import io
import json
import shutil
import struct
import subprocess
import sys
import wave
import zipfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
PACKAGES = ("openttd-opensfx", "teeworlds-data", "openarena-data")

# OpenSFX: index in opensfx.cat -> label. Each entry in the catalogue carries its own title,
# author and licence string, which is copied into the manifest verbatim.
OPENSFX = {
    8: "aircraft",
    9: "aircraft",
    24: "aircraft",
    59: "aircraft",
    61: "aircraft",
    69: "aircraft",
    70: "aircraft",
    18: "explosion",
    25: "vehicle",
    27: "vehicle",
    28: "vehicle",
    29: "crowd",
    # distractors (not events of our labels): machinery, horns, animals, wind, tools
    3: "other",
    6: "other",
    11: "other",
    14: "other",
    20: "other",
    33: "other",
    36: "other",
    37: "other",
    38: "other",
    39: "other",
    40: "other",
    52: "other",
    56: "other",
    66: "other",
}
TEEWORLDS_LICENCE = "CC BY-SA 3.0 (teeworlds data/*, Magnus Auvinen and contributors)"
TEEWORLDS = {
    "wp_gun_fire-01.wv": "gunfire",
    "wp_gun_fire-02.wv": "gunfire",
    "wp_gun_fire-03.wv": "gunfire",
    "wp_shotty_fire-01.wv": "gunfire",
    "wp_shotty_fire-02.wv": "gunfire",
    "wp_shotty_fire-03.wv": "gunfire",
    "wp_flump_explo-01.wv": "explosion",
    "wp_flump_explo-02.wv": "explosion",
    "wp_flump_explo-03.wv": "explosion",
    "foley_foot_left-01.wv": "other",
    "wp_hammer_swing-02.wv": "other",
    "sfx_skid-01.wv": "other",
    "music_menu.wv": "music",
}
OPENARENA_LICENCE = "GPL-2+ (OpenArena Team and contributors, see debian/copyright)"
OPENARENA = {
    "pak0.pk3": {
        "sound/weapons/machinegun/machgf1b.wav": "gunfire",
        "sound/weapons/machinegun/machgf2b.wav": "gunfire",
        "sound/weapons/machinegun/machgf3b.wav": "gunfire",
        "sound/weapons/machinegun/machgf4b.wav": "gunfire",
        "sound/weapons/shotgun/sshotf1b.wav": "gunfire",
        "sound/weapons/grenade/hgrenb1a.wav": "other",
        "sound/weapons/grenade/hgrenb2a.wav": "other",
        "sound/weapons/rocket/rocklx1a.wav": "explosion",
        "sound/weapons/proxmine/wstbexpl.wav": "explosion",
        "sound/world/fire1.wav": "other",
        "sound/world/machinerydrone01.wav": "other",
        "sound/world/wind1.wav": "other",
    },
    "mp-pak0.pk3": {
        "sound/items/kam_explode.wav": "explosion",
        "sound/items/kam_explode_far.wav": "explosion",
    },
}


def _run(cmd: list[str], cwd: Path) -> None:
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL)


def _write_wav(path: Path, samples: np.ndarray, sr: int) -> None:
    x = np.clip(samples, -1.0, 1.0)
    pcm = (x * 32767.0).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sr)
        w.writeframes(pcm.tobytes())


def _decode_bytes(data: bytes, suffix: str) -> tuple[np.ndarray, int]:
    """Decode a small audio file (WAV, WavPack) to mono float32 through the project's decoder."""
    import tempfile

    from earwitness.decode import load_audio

    with tempfile.NamedTemporaryFile(suffix=suffix) as tmp:
        tmp.write(data)
        tmp.flush()
        audio = load_audio(Path(tmp.name), sr=None, mono=True)
    return np.asarray(audio.samples, dtype=np.float32), int(audio.sr)


def _opensfx_entries(cat: Path) -> list[tuple[int, str, bytes]]:
    """Parse OpenTTD's ``.cat`` sound catalogue: a table of (offset, size) pairs; each entry is
    a length-prefixed description string followed by a RIFF WAV."""
    data = cat.read_bytes()
    count = (struct.unpack("<I", data[:4])[0] & 0x7FFFFFFF) // 8
    out = []
    for i in range(count):
        off, size = struct.unpack("<II", data[8 * i : 8 * i + 8])
        off &= 0x7FFFFFFF
        n = data[off]
        desc = data[off + 1 : off + 1 + n].rstrip(b"\0").decode("utf-8", "replace")
        out.append((i, desc, data[off + 1 + n : off + size]))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=HERE / "data" / "sfx")
    args = ap.parse_args(argv)
    out: Path = args.out
    debs = out.parent / "debs"
    root = out.parent / "unpacked"
    for d in (out, debs, root):
        d.mkdir(parents=True, exist_ok=True)
    for pkg in PACKAGES:
        if not list(debs.glob(f"{pkg}_*.deb")):
            _run(["apt-get", "download", pkg], cwd=debs)
        deb = sorted(debs.glob(f"{pkg}_*.deb"))[-1]
        target = root / pkg
        if not target.is_dir():
            _run(["dpkg", "-x", str(deb), str(target)], cwd=debs)

    manifest: list[dict[str, object]] = []

    def add(name: str, label: str, samples: np.ndarray, sr: int, **meta: str) -> None:
        if samples.size < sr * 0.05:
            return
        path = out / f"{name}.wav"
        _write_wav(path, samples, sr)
        manifest.append(
            {
                "file": path.name,
                "label": label,
                "sr": sr,
                "duration_s": round(samples.size / sr, 3),
                **meta,
            }
        )

    cat = next((root / "openttd-opensfx").rglob("opensfx.cat"))
    for idx, desc, wav_bytes in _opensfx_entries(cat):
        if idx not in OPENSFX:
            continue
        with wave.open(io.BytesIO(wav_bytes)) as w:
            sr = w.getframerate()
            width = w.getsampwidth()
            ch = w.getnchannels()
            raw = w.readframes(w.getnframes())
        raw = raw[: len(raw) - len(raw) % (width * ch)]
        dtype = {1: np.uint8, 2: np.int16}[width]
        x = np.frombuffer(raw, dtype=dtype).astype(np.float32)
        x = (x - 128.0) / 128.0 if width == 1 else x / 32768.0
        x = x.reshape(-1, ch).mean(axis=1)
        licence = desc.split("License:")[-1].strip() if "License:" in desc else "CC BY-SA 3.0"
        add(
            f"opensfx_{idx:02d}",
            OPENSFX[idx],
            x,
            sr,
            package="openttd-opensfx",
            source=f"opensfx.cat entry {idx}",
            credit=desc,
            licence=licence,
        )

    tw = next((root / "teeworlds-data").rglob("audio"))
    for fname, label in TEEWORLDS.items():
        x, sr = _decode_bytes((tw / fname).read_bytes(), ".wv")
        add(
            "teeworlds_" + fname.rsplit(".", 1)[0],
            label,
            x,
            sr,
            package="teeworlds-data",
            source=f"data/audio/{fname}",
            credit="Magnus Auvinen and contributors",
            licence=TEEWORLDS_LICENCE,
        )

    for pk3_name, members in OPENARENA.items():
        pk3 = next((root / "openarena-data").rglob(pk3_name))
        with zipfile.ZipFile(pk3) as z:
            for member, label in members.items():
                x, sr = _decode_bytes(z.read(member), ".wav")
                stem = member.rsplit("/", 1)[-1].rsplit(".", 1)[0]
                add(
                    f"openarena_{stem}",
                    label,
                    x,
                    sr,
                    package="openarena-data",
                    source=f"{pk3_name}:{member}",
                    credit="OpenArena Team",
                    licence=OPENARENA_LICENCE,
                )

    (out / "manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    shutil.rmtree(root, ignore_errors=True)
    counts: dict[str, int] = {}
    for m in manifest:
        counts[str(m["label"])] = counts.get(str(m["label"]), 0) + 1
    print(f"wrote {len(manifest)} clips to {out}: {counts}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
