"""Container metadata: tags, encoder strings, stream layout, and consistency checks.

The ``metadata`` stage lives in :mod:`earwitness.metadata.stage`; the rules in
:mod:`earwitness.metadata.checks` (explicit registry ``CHECKS``); raw header readers (MP3
Xing/LAME tag, RIFF, OpusHead) in :mod:`earwitness.metadata.headers`; software recognition in
:mod:`earwitness.metadata.encoders` (explicit registry ``ENCODER_PATTERNS``).
"""
