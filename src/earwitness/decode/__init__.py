"""Decoding through PyAV (FFmpeg bundled): probing containers and reading audio as float32.

Public API::

    probe(path, limits=Limits()) -> ProbeInfo
    load_audio(path, *, sr=None, mono=True, limits=Limits()) -> Audio
    iter_audio(path, *, sr=None, mono=True, chunk_s=30.0, limits=Limits()) -> Iterator[np.ndarray]
"""

from earwitness.decode.limits import Limits
from earwitness.decode.probe import ProbeInfo, StreamInfo, probe
from earwitness.decode.reader import Audio, iter_audio, load_audio

__all__ = ["Audio", "Limits", "ProbeInfo", "StreamInfo", "iter_audio", "load_audio", "probe"]
