"""JSON records that carry a SHA-256 of their own content: written by qml, verified when read back.

``seal(record)`` returns the record with a ``"sha256"`` key over the rest (canonical JSON: sorted
keys, no spaces); ``unseal(record)`` checks and removes it. Used for the small JSON files qml reads
back (sweep results, saved histories), whose damage must not pass as a value.
"""

from __future__ import annotations

import hashlib
import json

KEY = "sha256"


def _digest(record: dict) -> str:
    body = {k: v for k, v in record.items() if k != KEY}
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":"), default=str).encode()).hexdigest()


def seal(record: dict) -> dict:
    """``record`` plus ``"sha256"`` of its other keys."""
    return {**record, KEY: _digest(record)}


def unseal(record) -> dict:
    """``record`` without its ``"sha256"`` after checking it.

    Raises:
        ValueError: not a dict, no ``"sha256"``, or a content that does not match it.
    """
    if not isinstance(record, dict):
        raise ValueError(f"a JSON {type(record).__name__}, not an object")
    if KEY not in record:
        raise ValueError("no sha256 of its content (written by an older qml, or not by qml)")
    if record[KEY] != _digest(record):
        raise ValueError("its content does not match its sha256")
    return {k: v for k, v in record.items() if k != KEY}
