"""CBOR application and source data (RFC 8949 via cbor2), with typed decode errors."""

from __future__ import annotations

import io
from typing import Any

import cbor2

from .errors import BadCborError


def encode(value: Any) -> bytes:
    return cbor2.dumps(value)


def decode(data: bytes) -> Any:
    """Decode exactly one CBOR item; trailing octets or malformed input raise BadCborError."""
    if not data:
        raise BadCborError("empty CBOR data")
    # cbor2.loads silently ignores octets after the first item, so decode from a stream and
    # check that the item used all of them.
    stream = io.BytesIO(data)
    try:
        value = cbor2.CBORDecoder(stream).decode()
    except (cbor2.CBORDecodeError, ValueError, TypeError, OverflowError, RecursionError, MemoryError) as error:
        raise BadCborError(f"undecodable CBOR: {error}") from error
    if stream.tell() != len(data):
        raise BadCborError(f"{len(data) - stream.tell()} trailing octets after the CBOR item")
    return value
