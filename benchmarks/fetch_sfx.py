"""Fetch the real sound effects used to validate the acoustic-event detectors.

Downloads Debian game-data packages with ``apt-get download`` (no installation, no root
needed), unpacks them with ``dpkg -x`` and writes the clips we use as 16-bit WAV files plus a
manifest (``benchmarks/data/sfx/manifest.json``) naming, for each clip, its label, source
package, path inside the package, author and licence. The benchmarks split the clips by
*source package* (``events_data.VALIDATION_PACKAGES``), so no package gives clips of a label
to both the train and the validation half. Nothing is committed: ``benchmarks/data/`` is
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
PACKAGES = (
    "openttd-opensfx",
    "teeworlds-data",
    "openarena-data",
    "warzone2100-data",
    "hedgewars-data",
    "btanks-data",
    "freedoom",
    "bzflag-data",
    "chromium-bsu-data",
    "alienblaster-data",
    "scorched3d-data",
    "warmux-data",
    "gl-117-data",
)

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

WARZONE_LICENCE = "GPL-2+ (1999-2004 Eidos Interactive, 2005-2013 Warzone 2100 Project)"
#: base.wz (a zip): audio/sfx/<path>.ogg -> label (cannon shots are left out: neither
#: clearly gunfire nor an explosion)
WARZONE = {
    "weapons/mgbar1": "gunfire",
    "weapons/mgbar2": "gunfire",
    "weapons/mgbar3": "gunfire",
    "weapons/mgtower": "gunfire",
    "weapons/mgheavy": "gunfire",
    "weapons/asltmg": "gunfire",
    "explons/smlexpl": "explosion",
    "explons/lrgexpl": "explosion",
    "explons/atnkexpl": "explosion",
    "explons/mpodexpl": "explosion",
    "explons/nxsexpld": "explosion",
    "vehicle/vtol-move": "aircraft",
    "vehicle/vtolland": "aircraft",
    "vehicle/vtoloff": "aircraft",
    "vehicle/tflight": "aircraft",
    "vehicle/tstart": "aircraft",
    "vehicle/tland": "aircraft",
    "vehicle/tread": "vehicle",
    "vehicle/con-move": "vehicle",
    "building/oilpump": "other",
    "building/steam": "other",
    "weapons/weld-1": "other",
    "misc/scream": "other",
}
#: plain files inside a package (found by name under the unpacked tree): package ->
#: (licence, credit, {file name: label})
PLAIN: dict[str, tuple[str, str, dict[str, str]]] = {
    "hedgewars-data": (
        "GFDL-1.3 (Data/Sounds, see debian/copyright)",
        "Andrey Korotaev and the Hedgewars Project",
        {
            "gun.ogg": "gunfire",
            "shotgunfire.ogg": "gunfire",
            "explosion.ogg": "explosion",
            "plane.ogg": "aircraft",
            "grenadeimpact.ogg": "other",
            "hammer.ogg": "other",
            "baseballbat.ogg": "other",
            "steps.ogg": "other",
        },
    ),
    "btanks-data": (
        "GPL-2 with the Battle Tanks exception (see debian/copyright)",
        "Vladimir Menshakov and the Battle Tanks Team",
        {
            "shot.ogg": "gunfire",
            "explosion.ogg": "explosion",
            "building-explosion1.ogg": "explosion",
            "building-explosion2.ogg": "explosion",
            "building-explosion3.ogg": "explosion",
            "vehicle-explosion2.ogg": "explosion",
            "dirt-bullet-explosion.ogg": "explosion",
            "helicopter.ogg": "aircraft",
            "train.ogg": "other",
        },
    ),
    "bzflag-data": (
        "LGPL-2.1 or MPL (see debian/copyright)",
        "Tim Riker and the BZFlag contributors",
        {"boom.wav": "explosion", "explosion.wav": "explosion"},
    ),
    "chromium-bsu-data": (
        "Expat (data/wav/*, see debian/copyright)",
        "Brian Redfern",
        {"exploBig.wav": "explosion", "exploStd.wav": "explosion"},
    ),
    "alienblaster-data": (
        "GPL-2+ (see debian/copyright)",
        "Paul Grathwohl, Arne Hormann, Daniel Kuehn, Soenke Schwardt",
        {"explosion.wav": "explosion", "explosionBoss.wav": "explosion"},
    ),
}
SCORCHED_NONE = (
    "GPL-2+ (scorched3d-data, see debian/copyright)",
    "Gavin Camp (Scorched3D, default mod)",
)
SCORCHED_APOC = (
    "CC BY-SA 3.0 (scorched3d-data data/globalmods/apoc/*, see debian/copyright)",
    "Apocalypse mod team (named in authors.txt of scorched3d-data)",
)
WARMUX = (
    "GPL-2+ (warmux-data, see debian/copyright)",
    "WarMUX team and contributors (sound authors in data/authors.xml)",
)
GL117 = ("GPL-2 (gl-117-data, see debian/copyright)", "Thomas Drexl")
#: files by path below the unpacked package: package -> {path: (label, licence, credit)}.
#: Scorched3D's two mods (default, Apocalypse) have different authors and licences; both
#: come from one package, so they fall in one half of the package split.
_S3D = "usr/share/games/scorched3d/data/globalmods/"
_WMX = "usr/share/games/warmux/sound/default/weapons/"
_GL = "usr/share/games/gl-117/sounds/"
BY_PATH: dict[str, dict[str, tuple[str, str, str]]] = {
    "scorched3d-data": {
        **{
            f"{_S3D}none/data/wav/misc/{n}.wav": ("aircraft", *SCORCHED_NONE)
            for n in ("f16_1", "f16_2", "f18_1", "f18_2", "jet", "t38", "apache_1")
        },
        **{
            f"{_S3D}apoc/data/wav/misc/{n}.wav": ("aircraft", *SCORCHED_APOC)
            for n in ("cessna", "helicopter")
        },
        **{
            f"{_S3D}none/data/wav/explosions/{n}.wav": ("explosion", *SCORCHED_NONE)
            for n in ("small", "medium", "large", "xlarge", "tank")
        },
        **{
            f"{_S3D}apoc/data/wav/explosions/{n}.wav": ("explosion", *SCORCHED_APOC)
            for n in ("exp", "tank")
        },
        **{
            f"{_S3D}apoc/data/wav/shoot/{n}.wav": ("gunfire", *SCORCHED_APOC)
            for n in ("machinegun", "shotgun")
        },
        f"{_S3D}none/data/wav/movement/tankmove.wav": ("vehicle", *SCORCHED_NONE),
        f"{_S3D}apoc/data/wav/misc/cheeringloop.wav": ("crowd", *SCORCHED_APOC),
    },
    "warmux-data": {
        **{
            f"{_WMX}{n}.ogg": ("explosion", *WARMUX)
            for n in (*(f"explosion{i}" for i in range(1, 10)), "dynamite_exp")
        },
        **{f"{_WMX}{n}.ogg": ("gunfire", *WARMUX) for n in ("gun", "m16", "shotgun")},
        f"{_WMX}aircraft_flying.ogg": ("aircraft", *WARMUX),
    },
    "gl-117-data": {
        f"{_GL}cannon1.wav": ("gunfire", *GL117),
        f"{_GL}explode1.wav": ("explosion", *GL117),
    },
}
FREEDOOM_LICENCE = "BSD-3-Clause (freedoom-license, see debian/copyright)"
#: freedoom2.wad DMX sound lumps -> label
FREEDOOM = {
    "DSPISTOL": "gunfire",
    "DSSHOTGN": "gunfire",
    "DSDSHTGN": "gunfire",
    "DSBAREXP": "explosion",
    "DSRXPLOD": "explosion",
    "DSDOROPN": "other",
    "DSPUNCH": "other",
    "DSMETAL": "other",
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
    from earwitness.errors import InputError

    with tempfile.NamedTemporaryFile(suffix=suffix) as tmp:
        tmp.write(data)
        tmp.flush()
        try:
            audio = load_audio(Path(tmp.name), sr=None, mono=True)
        except InputError:
            if suffix != ".wav":
                raise
            return _read_pcm_wav(Path(tmp.name))
    return np.asarray(audio.samples, dtype=np.float32), int(audio.sr)


def _read_pcm_wav(path: Path) -> tuple[np.ndarray, int]:
    """PCM WAV read directly (some Scorched3D files carry non-UTF-8 INFO text that FFmpeg's
    metadata decoding rejects)."""
    import warnings

    from scipy.io import wavfile

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", wavfile.WavFileWarning)
        sr, x = wavfile.read(path)
    if x.dtype == np.uint8:
        y = (x.astype(np.float32) - 128.0) / 128.0
    elif x.dtype.kind == "i":
        y = x.astype(np.float32) / float(np.iinfo(x.dtype).max + 1)
    else:
        y = x.astype(np.float32)
    return (y.mean(axis=1) if y.ndim > 1 else y), int(sr)


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


def _wad_sounds(wad: Path, names: set[str]) -> dict[str, tuple[np.ndarray, int]]:
    """DMX sound lumps of a Doom WAD: header (format 3, rate, sample count), 16 pad bytes,
    unsigned 8-bit samples, 16 pad bytes."""
    data = wad.read_bytes()
    n, table = struct.unpack("<II", data[4:12])
    out = {}
    for i in range(n):
        off, size, raw = struct.unpack("<II8s", data[table + 16 * i : table + 16 * i + 16])
        name = raw.rstrip(b"\0").decode("ascii", "replace")
        if name not in names or size < 8:
            continue
        fmt, rate, count = struct.unpack("<HHI", data[off : off + 8])
        if fmt != 3 or not 4000 <= rate <= 48000:
            continue
        pcm = np.frombuffer(data[off + 8 + 16 : off + 8 + count - 16], dtype=np.uint8)
        out[name] = ((pcm.astype(np.float32) - 128.0) / 128.0, int(rate))
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

    base = next((root / "warzone2100-data").rglob("base.wz"))
    with zipfile.ZipFile(base) as z:
        for member, label in WARZONE.items():
            x, sr = _decode_bytes(z.read(f"audio/sfx/{member}.ogg"), ".ogg")
            add(
                "warzone_" + member.replace("/", "_"),
                label,
                x,
                sr,
                package="warzone2100-data",
                source=f"base.wz:audio/sfx/{member}.ogg",
                credit="Eidos Interactive, Warzone 2100 Project",
                licence=WARZONE_LICENCE,
            )

    for pkg, (licence, credit, files) in PLAIN.items():
        for fname, label in files.items():
            path = next(p for p in (root / pkg).rglob(fname) if "voices" not in p.parts)
            x, sr = _decode_bytes(path.read_bytes(), path.suffix)
            add(
                f"{pkg.split('-')[0]}_{path.stem}",
                label,
                x,
                sr,
                package=pkg,
                source=str(path.relative_to(root / pkg)),
                credit=credit,
                licence=licence,
            )

    for pkg, files in BY_PATH.items():
        prefix = {"gl-117-data": "gl117"}.get(pkg, pkg.split("-")[0])
        for rel, (label, licence, credit) in files.items():
            path = root / pkg / rel
            x, sr = _decode_bytes(path.read_bytes(), path.suffix)
            mod = "_apoc" if "/apoc/" in rel else ""
            add(
                f"{prefix}{mod}_{path.stem}",
                label,
                x,
                sr,
                package=pkg,
                source=rel,
                credit=credit,
                licence=licence,
            )

    wad = next((root / "freedoom").rglob("freedoom2.wad"))
    for name, (x, sr) in _wad_sounds(wad, set(FREEDOOM)).items():
        add(
            f"freedoom_{name.lower()}",
            FREEDOOM[name],
            x,
            sr,
            package="freedoom",
            source=f"freedoom2.wad:{name}",
            credit="Contributors to the Freedoom project",
            licence=FREEDOOM_LICENCE,
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
