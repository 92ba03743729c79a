"""Typed errors for every way a packet or frame can be wrong.

Each error carries a stable numeric ``code`` (a :class:`FailureCode`) so that a rejection can be
reported to the ground in a PUS 1,2 / 1,4 / 1,8 verification failure report.
"""

from __future__ import annotations

from enum import IntEnum


class FailureCode(IntEnum):
    """Failure codes carried in PUS 1 failure reports (2 octets, big-endian)."""

    # Packet layer (1-19)
    TOO_SHORT = 1
    LENGTH_MISMATCH = 2
    BAD_VERSION = 3
    BAD_CRC = 4
    UNKNOWN_PUS_VERSION = 5
    OVERSIZE = 6
    BAD_CBOR = 7
    FIELD_RANGE = 8
    NOT_TELECOMMAND = 9
    # Dispatch (20-39)
    UNKNOWN_SERVICE = 20
    UNKNOWN_SUBTYPE = 21
    UNKNOWN_APID = 22
    UNKNOWN_COMMAND = 23
    BAD_ARGUMENT = 24
    ARGUMENT_RANGE = 25
    WRONG_MODE = 26
    BUSY = 27
    EXECUTION_FAILED = 28
    TIMEOUT = 29
    NOT_ARMED = 30
    ALREADY_FIRED = 31
    UNKNOWN_PARAMETER = 32
    UNKNOWN_STRUCTURE = 33
    UNKNOWN_EVENT = 34
    SCHEDULE_FULL = 35
    TIME_PASSED = 36
    UNKNOWN_SCHEDULE_ID = 37
    WRONG_STATE = 38
    INTERRUPTED_BY_RESET = 39  # executing when the software was reset: its outcome is unknown
    # Security (40-49)
    UNKNOWN_SPI = 40
    BAD_MAC = 41
    REPLAYED_SEQUENCE = 42
    MISSING_SECURITY_HEADER = 43
    # On-board monitoring and event-action (50-59)
    UNKNOWN_DEFINITION = 50
    DEFINITION_EXISTS = 51
    DEFINITION_ENABLED = 52
    DEFINITIONS_FULL = 53
    UNKNOWN_POINT = 54
    # Devices (60-69)
    DEVICE_UNAVAILABLE = 60  # the device (or the bus it sits on) does not answer, or is not fitted
    DEVICE_REFUSED = 61  # the device refused the call (the plant's error is in the report's data)
    # Descent planning (80-89)
    NO_DESCENT_STATE = 80  # no usable ground uplink (state vector, target, terrain map) for a descent
    PDI_WINDOW_CLOSED = 81  # this revolution's powered-descent initiation is past, or too far ahead
    NO_DESCENT_FRAME = 82  # no uplinked frame turn (DESCENT_FRAME_SET), and the go requires one


class PacketError(ValueError):
    """Base class: a packet that cannot be accepted. ``code`` names the reason."""

    code: FailureCode = FailureCode.FIELD_RANGE

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class TooShortError(PacketError):
    code = FailureCode.TOO_SHORT


class LengthMismatchError(PacketError):
    code = FailureCode.LENGTH_MISMATCH


class BadVersionError(PacketError):
    code = FailureCode.BAD_VERSION


class BadCrcError(PacketError):
    code = FailureCode.BAD_CRC


class UnknownPusVersionError(PacketError):
    code = FailureCode.UNKNOWN_PUS_VERSION


class OversizeError(PacketError):
    code = FailureCode.OVERSIZE


class BadCborError(PacketError):
    code = FailureCode.BAD_CBOR


class FieldRangeError(PacketError):
    """A header field outside its range (raised when packing, or a bad type bit)."""

    code = FailureCode.FIELD_RANGE


class NotTelecommandError(PacketError):
    code = FailureCode.NOT_TELECOMMAND


class BadArgumentError(PacketError):
    """A command argument or parameter value of the wrong type (or the wrong number of arguments)."""

    code = FailureCode.BAD_ARGUMENT


class ArgumentRangeError(BadArgumentError):
    """A value of the right type outside its declared range, length or enumeration."""

    code = FailureCode.ARGUMENT_RANGE
