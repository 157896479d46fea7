"""Decoding through PyAV (FFmpeg bundled): probing containers and reading audio as float32.

Public API::

    probe(path, limits=Limits()) -> ProbeInfo
    load_audio(path, *, sr=None, mono=True, limits=Limits()) -> Audio
    iter_audio(path, *, sr=None, mono=True, chunk_s=30.0, limits=Limits(), on_report=None)
        -> Iterator[np.ndarray]

``ProbeInfo.timing`` (:class:`TimingPlan`) says how encoder delay and padding are handled;
``Audio.report`` (:class:`DecodeReport`) what decoding actually removed, filled or skipped.
"""

from earwitness.decode.limits import Limits
from earwitness.decode.probe import ProbeInfo, StreamInfo, probe
from earwitness.decode.reader import Audio, DecodeReport, iter_audio, load_audio
from earwitness.decode.timing import TimingPlan

__all__ = [
    "Audio",
    "DecodeReport",
    "Limits",
    "ProbeInfo",
    "StreamInfo",
    "TimingPlan",
    "iter_audio",
    "load_audio",
    "probe",
]
