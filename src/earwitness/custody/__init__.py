"""Evidence custody: a content-addressed store of originals, a catalog and a hash-chained audit log.

See :class:`earwitness.custody.store.EvidenceStore` for the API.
"""
