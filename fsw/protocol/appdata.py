"""CBOR application and source data (RFC 8949 via cbor2), with typed decode errors."""

from __future__ import annotations

from typing import Any

import cbor2

from .errors import BadCborError


def encode(value: Any) -> bytes:
    return cbor2.dumps(value)


def decode(data: bytes) -> Any:
    """Decode exactly one CBOR item; trailing octets or malformed input raise BadCborError."""
    if not data:
        raise BadCborError("empty CBOR data")
    try:
        return cbor2.loads(data)
    except (cbor2.CBORDecodeError, ValueError, TypeError, OverflowError, RecursionError, MemoryError) as error:
        raise BadCborError(f"undecodable CBOR: {error}") from error
