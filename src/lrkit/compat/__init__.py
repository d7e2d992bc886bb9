"""Peer-compatible constructors: each peer's own names and parameters, returning lrkit schedules.

One module per peer (``lrkit.compat.keras``...).  They copy the peer's
behaviour step for step, quirks included, and name each quirk in a docstring.
None of them imports the peer.
"""
