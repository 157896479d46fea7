"""earwitness: an offline-first workbench for verifying audio statements.

The package is organised by domain: :mod:`earwitness.custody` (evidence store and audit
chain), :mod:`earwitness.decode` (PyAV decoding), :mod:`earwitness.pipeline` (analysis stages),
:mod:`earwitness.report` (JSON/HTML/label output) and one subpackage per analysis domain.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
