"""PUS service 1 (request verification) reports, kept in the PUS layout so that tmtccmd and Yamcs
track verification out of the box.

Source data: 4-octet request id (the TC's packet id and packet sequence control); progress
reports (1,5 / 1,6) add a 1-octet step id; failure reports (1,2 / 1,4 / 1,6 / 1,8) add a
2-octet failure code followed by CBOR failure data.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from . import appdata
from .errors import FailureCode, FieldRangeError, TooShortError


class Subtype(IntEnum):
    ACCEPTANCE_OK = 1
    ACCEPTANCE_FAILED = 2
    START_OK = 3
    START_FAILED = 4
    PROGRESS_OK = 5
    PROGRESS_FAILED = 6
    COMPLETION_OK = 7
    COMPLETION_FAILED = 8


FAILURE_SUBTYPES = frozenset(
    {Subtype.ACCEPTANCE_FAILED, Subtype.START_FAILED, Subtype.PROGRESS_FAILED, Subtype.COMPLETION_FAILED}
)
STEP_SUBTYPES = frozenset({Subtype.PROGRESS_OK, Subtype.PROGRESS_FAILED})

_REQUEST_ID = struct.Struct(">I")
_CODE = struct.Struct(">H")


@dataclass(frozen=True)
class VerificationReport:
    subtype: Subtype
    request_id: int
    step: int | None = None
    code: int | None = None
    data: Any = field(default=None)

    @property
    def ok(self) -> bool:
        return self.subtype not in FAILURE_SUBTYPES

    @property
    def tc_apid(self) -> int:
        return (self.request_id >> 16) & 0x7FF

    @property
    def tc_seq_count(self) -> int:
        return self.request_id & 0x3FFF

    @property
    def reason(self) -> str:
        if self.code is None:
            return ""
        try:
            return FailureCode(self.code).name
        except ValueError:
            return f"code {self.code}"

    def pack(self) -> bytes:
        out = _REQUEST_ID.pack(self.request_id)
        if self.subtype in STEP_SUBTYPES:
            if self.step is None or not 0 <= self.step <= 255:
                raise FieldRangeError(f"progress report needs a step id 0..255, got {self.step!r}")
            out += bytes((self.step,))
        if self.subtype in FAILURE_SUBTYPES:
            if self.code is None:
                raise FieldRangeError("failure report needs a failure code")
            out += _CODE.pack(int(self.code))
            if self.data is not None:
                out += appdata.encode(self.data)
        return out

    @classmethod
    def unpack(cls, subtype: int, data: bytes) -> VerificationReport:
        try:
            kind = Subtype(subtype)
        except ValueError as error:
            raise FieldRangeError(f"service 1 has no subtype {subtype}") from error
        if len(data) < 4:
            raise TooShortError(f"verification report needs a 4-octet request id, got {len(data)}")
        (request_id,) = _REQUEST_ID.unpack_from(data)
        index = 4
        step = code = None
        payload: Any = None
        if kind in STEP_SUBTYPES:
            if len(data) < index + 1:
                raise TooShortError("progress report lacks its step id")
            step = data[index]
            index += 1
        if kind in FAILURE_SUBTYPES:
            if len(data) < index + 2:
                raise TooShortError("failure report lacks its failure code")
            (code,) = _CODE.unpack_from(data, index)
            index += 2
            if len(data) > index:
                payload = appdata.decode(bytes(data[index:]))
        return cls(kind, request_id, step, code, payload)
