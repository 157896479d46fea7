"""Compression history: was audio now in a lossless/PCM container lossy-encoded before?

Two kinds of trace, measured on the decoded samples at the native rate:

- *Band-limiting*: perceptual codecs low-pass the signal at a bit-rate-dependent frequency
  (LAME's and FFmpeg-AAC's default low-pass tables; narrow-band speech codecs at ~4 kHz). The
  long-term spectrum shows a brick-wall drop far steeper than natural roll-off. The cutoff is
  compared with the container's Nyquist frequency; a cutoff that sits exactly at a common lower
  sampling rate's Nyquist is reported as possibly plain resampling.
- *Quantisation holes*: transform codecs quantise whole scale-factor bands to zero when the bit
  budget is short, leaving time-frequency "holes" far below the local spectral level that
  natural noise almost never produces (the small-value statistics of Yang, Shi & Huang 2009,
  "Defeating fake-quality MP3", ACM MM&Sec, and D'Alessandro & Shi 2009, "MP3 bit rate quality
  detection through frequency spectrum analysis", ACM MM&Sec).

- *MDCT frame grid*: an MDCT codec's zeroed coefficients come back exactly when the decoded
  samples are re-analysed on the encoder's frame grid with its window, and nowhere else
  (``forensics.mdct_grid``; Yang, Shi & Huang 2009; Moehrs, Herre & Geiger 2002, AES 112th
  Convention, paper 5576). This finds AAC that kept the full band (FFmpeg's encoder at
  128 kbit/s mono and above), where the spectrum shows nothing.

Double MP3 (an MP3 re-encoded at a higher bit-rate than its content had) shows as an MP3 whose
effective bandwidth is far below the usual low-pass of its declared bit-rate (Yang et al. 2009).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import ndimage

from earwitness.forensics.dsp import frame_view
from earwitness.forensics.mdct_grid import GridParams, GridTrace, grid_trace

LOSSY_CODECS = (
    "mp3",
    "mp2",
    "aac",
    "opus",
    "vorbis",
    "amr_nb",
    "amr_wb",
    "wmav2",
    "wmav1",
    "ac3",
    "eac3",
    "gsm",
    "gsm_ms",
    "speex",
    "adpcm",
    "mp3float",
    "libopus",
)

# Default low-pass of LAME 3.100 (CBR, through FFmpeg's libmp3lame, 44.1 kHz) by total bit-rate
# (kbit/s) for mono and stereo, measured on white noise; ``benchmarks/validate_forensics.py``
# re-measures the encoder in use and stores the table in the calibration file.
_MP3_MONO = ((32, 8500), (48, 11300), (64, 16800), (96, 20300), (128, 20300), (320, 20300))
_MP3_STEREO = (
    (32, 5800),
    (48, 7800),
    (64, 11300),
    (96, 15400),
    (128, 16800),
    (160, 17500),
    (192, 18900),
    (256, 19600),
    (320, 20300),
)
# Low-pass of FFmpeg's native AAC encoder (44.1 kHz) by total bit-rate, mono and stereo, measured
# on white noise; 22050 = full band. Re-measured by the validation script like the MP3 tables.
_AAC_MONO = (
    (32, 12554),
    (48, 15848),
    (64, 17356),
    (96, 19401),
    (128, 22050),
    (160, 22050),
    (192, 22050),
    (256, 22050),
    (320, 22050),
)
_AAC_STEREO = (
    (32, 3811),
    (48, 7709),
    (64, 12532),
    (96, 16774),
    (128, 17334),
    (160, 19509),
    (192, 19423),
    (256, 22050),
    (320, 22050),
)
_RESAMPLE_NYQUISTS = (4000.0, 5512.5, 8000.0, 11025.0, 16000.0, 22050.0, 24000.0)


@dataclass(frozen=True)
class CompressionParams:
    """Tunable parameters of the compression-history detector (thresholds are calibrated)."""

    n_fft: int = 2048
    max_frames: int = 3000
    drop_db: float = 25.0
    cutoff_margin: float = 0.93
    hole_db: float = 30.0
    hole_threshold: float = 0.02
    band_limit_is_lossy: bool = True
    double_mp3_ratio: float = 0.85
    narrow_ratio: float = 0.6
    resample_bands: tuple[tuple[float, float], ...] = ((0.96, 1.02), (1.1, 1.22))
    resample_shelf_db: float = 8.0
    mp3_lowpass_mono: tuple[tuple[int, int], ...] = _MP3_MONO
    mp3_lowpass_stereo: tuple[tuple[int, int], ...] = _MP3_STEREO
    aac_lowpass_mono: tuple[tuple[int, int], ...] = _AAC_MONO
    aac_lowpass_stereo: tuple[tuple[int, int], ...] = _AAC_STEREO
    grid_excess: float = 0.01
    grid_zero_lsb: float = 1.0
    grid_coarse_frames: int = 4
    grid_verify_frames: int = 32

    def grid(self) -> GridParams:
        return GridParams(
            coarse_frames=self.grid_coarse_frames,
            verify_frames=self.grid_verify_frames,
            zero_lsb=self.grid_zero_lsb,
        )


@dataclass(frozen=True)
class CompressionReport:
    """The compression assessment of one recording."""

    prior_lossy: bool
    score: float
    current_codec: str
    current_lossy: bool
    cutoff_hz: float | None
    cutoff_drop_db: float
    effective_bandwidth_hz: float
    nyquist_hz: float
    hole_fraction: float
    codec_class: str
    bitrate_kbps_range: tuple[int, int] | None
    double_mp3: bool | None
    resample_nyquist_hz: float | None
    grid: GridTrace | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    def details(self) -> dict[str, Any]:
        d = {k: v for k, v in self.__dict__.items() if k != "grid"}
        g = self.grid
        d["mdct_grid"] = (
            None
            if g is None
            else {
                "excess": g.excess,
                "zero_fraction": g.zero_fraction,
                "off_grid_zero_fraction": g.null_zero_fraction,
                "offset": g.offset,
                "window": g.window,
                "frames": g.frames,
                "band_hz": list(g.band_hz),
            }
        )
        d["bitrate_kbps_range"] = list(self.bitrate_kbps_range) if self.bitrate_kbps_range else None
        d["notes"] = list(self.notes)
        return d


def spectral_features(
    *, y: np.ndarray, sr: int, params: CompressionParams | None = None
) -> tuple[float | None, float, float, float]:
    """Cutoff (Hz or None), its drop (dB), effective bandwidth (Hz) and hole fraction.

    See :func:`spectral_analysis`, which also returns the smoothed long-term spectrum.
    """
    c, d, e, h, _, _ = spectral_analysis(y=y, sr=sr, params=params)
    return c, d, e, h


def spectral_analysis(
    *, y: np.ndarray, sr: int, params: CompressionParams | None = None
) -> tuple[float | None, float, float, float, np.ndarray, np.ndarray]:
    """Cutoff, drop, effective bandwidth, hole fraction, and frequencies / long-term spectrum (dB).

    Active frames (above the 40th level percentile) of a Hann STFT give a long-term spectrum;
    the cutoff is the steepest 300 Hz-scale drop; holes are bins more than ``hole_db`` below
    their frame's local median over 15 bins, counted in the upper passband (0.5-0.95 cutoff).
    """
    p = params or CompressionParams()
    y = np.asarray(y, dtype=np.float32)
    n = p.n_fft
    none = np.zeros(0)
    if y.size < n * 4:
        return None, 0.0, sr / 2, 0.0, none, none
    fr = frame_view(y=y, frame=n, hop=n // 2)
    if fr.shape[0] > p.max_frames:
        fr = fr[np.linspace(0, fr.shape[0] - 1, p.max_frames).astype(int)]
    e = np.mean(fr.astype(np.float64) ** 2, axis=1)
    act = fr[e >= max(np.percentile(e, 40), 1e-12)]
    if act.shape[0] < 2:
        return None, 0.0, sr / 2, 0.0, none, none
    spec = np.abs(np.fft.rfft(act * np.hanning(n).astype(np.float32), axis=1)) ** 2
    freqs = np.fft.rfftfreq(n, 1 / sr)
    ltas = 10 * np.log10(spec.mean(axis=0) + 1e-20)
    hz = sr / n
    sm = ndimage.uniform_filter1d(ltas, max(1, int(100 / hz)))
    w = max(2, int(400 / hz))
    g = max(1, int(100 / hz))
    lo_band = np.array([sm[max(0, i - g - w) : max(1, i - g)].mean() for i in range(sm.size)])
    hi_band = np.array(
        [sm[i + g : i + g + w].mean() if i + g + w <= sm.size else np.nan for i in range(sm.size)]
    )
    drop = lo_band - hi_band
    drop[(freqs < 1000) | np.isnan(drop)] = -np.inf
    i = int(np.argmax(drop))
    cutoff: float | None = float(freqs[i]) if drop[i] >= p.drop_db else None
    d = float(drop[i]) if np.isfinite(drop[i]) else 0.0
    ref = np.percentile(sm[(freqs > 200) & (freqs < min(4000, sr / 2))], 90)
    above = np.nonzero(sm > ref - 50)[0]
    eff = float(freqs[above[-1]]) if above.size else sr / 2
    if cutoff is not None:
        eff = min(eff, cutoff)
    top = cutoff or eff
    band = (freqs >= 0.5 * top) & (freqs <= 0.95 * top) & (freqs > 500)
    holes = 0.0
    if band.sum() >= 15:
        sdb = 10 * np.log10(spec[:, band] + 1e-20)
        med = ndimage.median_filter(sdb, size=(1, 15), mode="nearest")
        lvl = 10 * np.log10(spec[:, band].mean(axis=1) + 1e-20)
        loud = lvl > np.percentile(lvl, 50)
        holes = float(np.mean((sdb < med - p.hole_db)[loud])) if loud.any() else 0.0
    return cutoff, d, eff, holes, freqs, sm


def resample_shelf_db(
    *, freqs: np.ndarray, ltas_db: np.ndarray, nyquist_hz: float, cutoff_hz: float
) -> float | None:
    """How far the spectrum falls at ``nyquist_hz``, below a cutoff measured above it (dB).

    Upsampled audio ends at its source's Nyquist frequency; the anti-imaging filter's slope
    then puts the steepest drop a little higher (1.13-1.16 x the Nyquist frequency with
    FFmpeg's and scipy's resamplers), so between the two the level is already far down. A
    codec's passband stays level up to its low-pass. Mean level 500-1500 Hz below
    ``nyquist_hz`` minus mean level from 300 Hz above it to 300 Hz below the cutoff; None
    when the cutoff is too close to ``nyquist_hz`` to tell.
    """
    if freqs.size == 0 or cutoff_hz - nyquist_hz < 900:
        return None
    below = (freqs > nyquist_hz - 1500) & (freqs < nyquist_hz - 500)
    gap = (freqs > nyquist_hz + 300) & (freqs < cutoff_hz - 300)
    if not below.any() or not gap.any():
        return None
    return float(ltas_db[below].mean() - ltas_db[gap].mean())


def _mp3_range(cutoff: float, table: tuple[tuple[int, int], ...]) -> tuple[int, int] | None:
    """Bit-rates (kbit/s) of ``table`` whose low-pass lies within 6 % of ``cutoff``."""
    rates = [b for b, f in table if abs(f - cutoff) <= 0.06 * f]
    return (min(rates), max(rates)) if rates else None


def _lowpass_range(
    top: float | None, table: tuple[tuple[int, int], ...], full: float
) -> tuple[int, int] | None:
    """Bit-rates of ``table`` whose low-pass matches ``top`` (None: full band, >= ``full``)."""
    if top is None:
        rates = [b for b, f in table if f >= full]
        return (min(rates), max(rates)) if rates else None
    return _mp3_range(top, table)


def _rate_ranges(
    name: str,
    top: float | None,
    mono_table: tuple[tuple[int, int], ...],
    stereo_table: tuple[tuple[int, int], ...],
    full: float = float("inf"),
) -> tuple[list[tuple[int, int] | None], str | None]:
    """Stereo and mono bit-rate ranges whose low-pass matches ``top``, and the note on them."""
    mono = _lowpass_range(top, mono_table, full)
    stereo = _lowpass_range(top, stereo_table, full)
    return [stereo, mono], _range_note(name, stereo, mono)


def _range_note(
    name: str, stereo: tuple[int, int] | None, mono: tuple[int, int] | None
) -> str | None:
    if not (stereo or mono):
        return None
    return (
        f"{name}-equivalent bit-rate: "
        + (f"stereo {stereo[0]}-{stereo[1]} kbit/s" if stereo else "")
        + (" or " if stereo and mono else "")
        + (f"mono {mono[0]}-{mono[1]} kbit/s" if mono else "")
    )


def _expected_lowpass(table: tuple[tuple[int, int], ...], kbps: float) -> int:
    return min(table, key=lambda bf: abs(bf[0] - kbps))[1]


def assess(
    *,
    y: np.ndarray,
    sr: int,
    codec: str,
    bit_rate: int | None = None,
    channels: int = 1,
    params: CompressionParams | None = None,
) -> CompressionReport:
    """Assess the compression history of mono ``y`` at native ``sr`` in a ``codec`` stream.

    ``bit_rate`` (bit/s) and ``channels`` describe the current stream (for double-MP3).
    """
    p = params or CompressionParams()
    cutoff, drop, eff, holes, freqs, ltas = spectral_analysis(y=y, sr=sr, params=p)
    nyq = sr / 2
    codec = (codec or "unknown").lower()
    current_lossy = codec.startswith(LOSSY_CODECS)
    notes: list[str] = []
    band_limited = cutoff is not None and cutoff < p.cutoff_margin * nyq
    resample = None
    if band_limited and cutoff is not None:
        near = [
            f
            for f in _RESAMPLE_NYQUISTS
            if any(lo * f <= cutoff <= hi * f for lo, hi in p.resample_bands)
        ]
        for f in near:
            shelf = resample_shelf_db(freqs=freqs, ltas_db=ltas, nyquist_hz=f, cutoff_hz=cutoff)
            if shelf is None or shelf >= p.resample_shelf_db:
                resample = f
                break
    hole_evidence = holes >= p.hole_threshold
    band_evidence = band_limited and resample is None and p.band_limit_is_lossy
    # the current decode of an MDCT stream is on its own grid trivially: searched only in PCM
    # and lossless containers
    grid = None if current_lossy else grid_trace(y=y, sr=sr, top_hz=cutoff or eff, params=p.grid())
    grid_evidence = grid is not None and grid.excess >= p.grid_excess
    prior = bool(hole_evidence or band_evidence or grid_evidence)
    score = float(
        max(
            holes / p.hole_threshold,
            (drop / p.drop_db) if band_limited else 0.0,
            (grid.excess / p.grid_excess) if grid is not None else 0.0,
        )
    )
    codec_class = "none detected"
    rng_kbps: tuple[int, int] | None = None
    # in a lossy stream the current codec may fill the band above an earlier low-pass with
    # noise, so the effective bandwidth stands in for a missing brick-wall cutoff
    narrow_in_lossy = current_lossy and eff < p.narrow_ratio * nyq
    top = cutoff if band_limited else (eff if narrow_in_lossy else None)
    ranges: list[tuple[int, int] | None] = []
    if grid_evidence and grid is not None and (top is None or top >= 8800):
        family = "Vorbis" if grid.window == "vorbis" else "AAC"
        codec_class = (
            f"{family}-class MDCT codec (2048-sample frames, {grid.window} window; "
            "frame-grid trace)"
        )
        note: str | None = None
        if family == "AAC":
            ranges, note = _rate_ranges(
                "AAC (FFmpeg encoder, 44.1 kHz)",
                top,
                p.aac_lowpass_mono,
                p.aac_lowpass_stereo,
                p.cutoff_margin * 22050,
            )
        elif top is not None:
            ranges, note = _rate_ranges("MP3", top, p.mp3_lowpass_mono, p.mp3_lowpass_stereo)
        if note:
            notes.append(note)
        notes.append(
            f"{grid.zero_fraction:.1%} of MDCT coefficients are zero on the frame grid at "
            f"offset {grid.offset} against {grid.null_zero_fraction:.1%} off the grid"
        )
    elif top is not None:
        if top < 5000:
            codec_class = "narrow-band speech codec (AMR-NB/GSM class) or 8 kHz source"
        elif top < 8800:
            codec_class = "wide-band codec (AMR-WB/Opus-WB/low-rate MP3 or AAC) or 16 kHz source"
        else:
            codec_class = "perceptual transform codec (MP3/AAC/Vorbis class)"
            ranges, note = _rate_ranges("MP3", top, p.mp3_lowpass_mono, p.mp3_lowpass_stereo)
            if note:
                notes.append(note)
    elif hole_evidence:
        codec_class = "perceptual transform codec (quantisation holes, no low-pass found)"
    both = [r for r in ranges if r]
    if both:
        rng_kbps = (min(r[0] for r in both), max(r[1] for r in both))
    if resample is not None:
        notes.append(
            f"cutoff is at the Nyquist frequency of {2 * resample:.0f} Hz audio: "
            + (
                "plain resampling alone would not leave the frame-grid trace"
                if grid_evidence
                else "could be plain resampling rather than a codec"
            )
        )
    double: bool | None = None
    if codec.startswith("mp3"):
        double = False
        if bit_rate:
            table = p.mp3_lowpass_mono if channels == 1 else p.mp3_lowpass_stereo
            expect = _expected_lowpass(table, bit_rate / 1000)
            if eff < p.double_mp3_ratio * min(expect, nyq):
                double = True
                notes.append(
                    f"bandwidth {eff:.0f} Hz is far below the ~{expect} Hz low-pass "
                    f"usual at {bit_rate // 1000} kbit/s: transcoded from a lower rate"
                )
        prior = bool(double)
    if current_lossy and not codec.startswith("mp3"):
        # a narrow band inside a wide-band lossy stream: an earlier narrow-band stage
        prior = bool(
            narrow_in_lossy
            or (band_limited and cutoff is not None and cutoff < p.narrow_ratio * nyq)
        )
        if prior:
            notes.append(
                f"content stops near {top:.0f} Hz in a {codec} stream at {sr} Hz: "
                "an earlier narrower-band stage (another codec or a phone line)"
            )
    return CompressionReport(
        prior_lossy=prior,
        score=score,
        current_codec=codec,
        current_lossy=current_lossy,
        cutoff_hz=cutoff,
        cutoff_drop_db=drop,
        effective_bandwidth_hz=eff,
        nyquist_hz=nyq,
        hole_fraction=holes,
        codec_class=codec_class,
        bitrate_kbps_range=rng_kbps,
        double_mp3=double,
        resample_nyquist_hz=resample,
        grid=grid,
        notes=tuple(notes),
    )
