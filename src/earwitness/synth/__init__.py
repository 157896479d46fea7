"""Synthetic audio with known ground truth, for tests, benchmarks, validation and the demo.

Nothing here is used on evidence: it only makes test material.
"""

from earwitness.synth.encode import encode_file
from earwitness.synth.signals import babble, chirp, noise, tone

__all__ = ["babble", "chirp", "encode_file", "noise", "tone"]
