"""The device bus's value encoding: readings travel positionally, as a CBOR map
``{type name: [field values...]}``, compact and still self-describing enough to refuse a reading of
an unknown type. Tuples and lists travel as lists and come back as tuples (readings are frozen).

A dozen readings cross each way every 50 Hz cycle, so each reading class gets its own encoder and
decoder, written out field by field the way :mod:`dataclasses` writes ``__init__``: no loop over
the fields, no reflection per value. Values that need no conversion (numbers, strings, flags) are
recognised by their exact type; anything else takes the general path, so the result is the same.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from types import MemberDescriptorType
from typing import Any, TypeVar

import cbor2

from fsw.protocol.errors import PacketError

_SCALARS = (int, float, str, bool, bytes, type(None))
# The exact types of _SCALARS: one set lookup settles most values (subclasses take the general path).
_SCALAR_TYPES: frozenset[type] = frozenset(_SCALARS)

Converter = Callable[[Any], Any]
_Reading = TypeVar("_Reading")

_READING_TYPES: dict[str, type] = {}
_ENCODERS: dict[type, Converter] = {}
_DECODERS: dict[str, Converter] = {}
_CARRIERS: dict[type, Converter] = {}
READING_CLASSES: set[type] = set()  # the registered reading classes (decode hands a reading object back as it is)


def canonical_cbor(value: Any) -> bytes:
    # Canonical CBOR stores each float in the shortest exact form: grid offsets take 3 octets, not 9.
    return cbor2.dumps(value, canonical=True)


def travelling_cbor(value: dict[str, Any]) -> bytes:
    """A device bus message as CBOR: canonical when it carries ``results`` (an elevation image, whose
    8 KiB of heights must fit a packet), plain otherwise: canonical's shortest float forms save a
    hundred octets on a step of some 40 floats and cost 1.6 to 2.5 times the encoding, even on a reply
    carrying cycles flown ahead (well within a packet). Both decode to the same values."""
    if value.get("results"):
        return canonical_cbor(value)
    return cbor2.dumps(value)


def register_readings(*modules: Any) -> None:
    """Make the reading dataclasses of these modules decodable on the bus."""
    for module in modules:
        for value in vars(module).values():
            if isinstance(value, type) and dataclasses.is_dataclass(value):
                _READING_TYPES[value.__name__] = value
                _DECODERS.pop(value.__name__, None)
    _CARRIERS.clear()  # a name may now stand for another class
    READING_CLASSES.clear()
    READING_CLASSES.update(cls for cls in _READING_TYPES.values() if not issubclass(cls, dict | list))


# --- encoding ------------------------------------------------------------------------------------
def encode(value: Any) -> Any:
    """A value as it travels: scalars as they are, sequences as lists, a reading (a dataclass) as
    ``{type name: [field values...]}``. Anything else is a ``TypeError``."""
    cls = type(value)
    if cls in _SCALAR_TYPES:
        return value
    encoder = _ENCODERS.get(cls)
    if encoder is None:
        encoder = _ENCODERS[cls] = _encoder_for(cls)
    return encoder(value)


def _encode_sequence(value: Any) -> list[Any]:
    scalars = _SCALAR_TYPES
    return [item if type(item) in scalars else encode(item) for item in value]


def _same(value: Any) -> Any:
    return value


def _encoder_for(cls: type) -> Converter:
    if issubclass(cls, _SCALARS):  # a subclass of a scalar (an IntEnum) travels as it is
        return _same
    if issubclass(cls, tuple | list):
        return _encode_sequence
    if not dataclasses.is_dataclass(cls):
        def refuse(value: Any) -> Any:
            raise TypeError(f"{cls.__name__} cannot travel on the device bus")
        return refuse
    names = [field.name for field in dataclasses.fields(cls)]
    items = "".join(f"_x if type(_x := value.{name}) in _scalars else _encode(_x), " for name in names)
    return _compile("encode_reading", "value", f"{{_name: [{items}]}}", _name=cls.__name__)


# --- decoding ------------------------------------------------------------------------------------
def decode(value: Any) -> Any:
    """The inverse of :func:`encode`: a one-entry map is a reading of a registered type (an
    unknown one is a :class:`PacketError`), a list a tuple; anything else is itself."""
    kind = type(value)
    if (kind is dict or isinstance(value, dict)) and len(value) == 1:
        ((name, fields),) = value.items()
        decoder = _DECODERS.get(name)
        if decoder is None:
            cls = _READING_TYPES.get(name)
            if cls is None:
                raise PacketError(f"unknown reading type {name!r} on the device bus")
            decoder = _DECODERS[name] = _decoder_for(cls)
        return decoder(fields)
    if kind is list or isinstance(value, list):
        scalars = _SCALAR_TYPES
        # Readings are frozen: tuples, not lists.
        return tuple([item if type(item) in scalars else decode(item) for item in value])
    return value


def _decode_by_init(cls: type, fields: Any) -> Any:
    """The general path: the class's own ``__init__`` (and its errors for a malformed reading)."""
    scalars = _SCALAR_TYPES
    return cls(*[item if type(item) in scalars else decode(item) for item in fields])


def _decoder_for(cls: type) -> Converter:
    fields = dataclasses.fields(cls)
    if not _has_plain_decoder(cls):  # no slots, a __post_init__, a field outside __init__: through __init__
        return lambda values: _decode_by_init(cls, values)
    # A frozen slotted reading whose __init__ only stores its arguments: store them straight into
    # the slots (the same object, a third of the cost); a reading of the wrong length or shape
    # goes through __init__ for its usual error.
    count = len(fields)
    setters = {f"_set{i}": getattr(cls, field.name).__set__ for i, field in enumerate(fields)}
    stores = "".join(f"    _set{i}(_o, _v{i} if type(_v{i}) in _scalars else _decode(_v{i}))\n" for i in range(count))
    body = (f"    if type(fields) is not list or len(fields) != {count}:\n"
            f"        return _by_init(_cls, fields)\n"
            f"    {''.join(f'_v{i}, ' for i in range(count))}= fields\n"
            f"    _o = _new(_cls)\n{stores}")
    return _compile("decode_reading", "fields", "_o", body=body, _cls=cls, _new=object.__new__,
                    _by_init=_decode_by_init, **setters)


def reading_maker(cls: type[_Reading]) -> Callable[..., _Reading]:
    """A constructor for ``cls`` taking its fields in order, for a device that makes a reading
    every cycle: for a frozen slotted reading whose ``__init__`` only stores its arguments, one that
    stores them straight into the slots (the same object, without the frozen class's guarded
    ``__setattr__`` per field); for any other class, the class itself."""
    if not (dataclasses.is_dataclass(cls) and _has_plain_decoder(cls)):
        return cls
    fields = dataclasses.fields(cls)
    setters = {f"_set{i}": getattr(cls, field.name).__set__ for i, field in enumerate(fields)}
    arguments = ", ".join(f"_v{i}" for i in range(len(fields)))
    stores = "".join(f"    _set{i}(_o, _v{i})\n" for i in range(len(fields)))
    source = f"def make_{cls.__name__}({arguments}):\n    _o = _new(_cls)\n{stores}    return _o\n"
    namespace: dict[str, Any] = {"_cls": cls, "_new": object.__new__, **setters}
    exec(compile(source, f"<device reading {cls.__name__}>", "exec"), namespace)  # built above from field names
    maker: Callable[..., _Reading] = namespace[f"make_{cls.__name__}"]
    return maker


# --- carrying in process ---------------------------------------------------------------------------
def carry(value: Any) -> Any:
    """What ``decode(encode(value))`` gives, for a bus whose two ends share a process: the same
    reading, field for field, without building the travelling form. A reading of a registered,
    frozen, slotted type whose fields are plain scalars or tuples of them is immutable and would come
    back equal in every field, so it is handed over as it is; anything else (a list that would come
    back a tuple, a nested reading, a type the flight side would not know) is returned in its
    travelling form, ``encode(value)``, for the receiving end's :func:`decode` (which hands a
    reading object back unchanged). Raises what :func:`encode` raises."""
    cls = type(value)
    if cls in _SCALAR_TYPES:
        return value
    carrier = _CARRIERS.get(cls)
    if carrier is None:
        carrier = _CARRIERS[cls] = _carrier_for(cls)
    return carrier(value)


def _carrier_for(cls: type) -> Converter:
    shared = (_READING_TYPES.get(cls.__name__) is cls and _has_plain_decoder(cls)
              and vars(cls)["__dataclass_params__"].frozen)
    if not shared:
        return encode
    # Each field a scalar, or a tuple of scalars.
    checks = " and ".join(f"((_t := type(_x := value.{field.name})) in _scalars or _t is tuple"
                          f" and _all_scalars(map(type, _x)))" for field in dataclasses.fields(cls))
    return _compile("carry_reading", "value", f"value if {checks} else _encode(value)",
                    _all_scalars=_SCALAR_TYPES.issuperset)


def _has_plain_decoder(cls: type) -> bool:
    """The decoder of ``cls`` stores the travelling fields straight into the slots (see :func:`_decoder_for`)."""
    fields = dataclasses.fields(cls)
    return bool(fields) and not hasattr(cls, "__post_init__") and all(
        field.init and isinstance(vars(cls).get(field.name), MemberDescriptorType) for field in fields)


def _compile(name: str, argument: str, result: str, body: str = "", **names: Any) -> Converter:
    """A one-argument function ``name(argument)`` that runs ``body`` and returns ``result``, with
    ``names`` (and the codec's own helpers) as its globals."""
    source = f"def {name}({argument}):\n{body}    return {result}\n"
    namespace: dict[str, Any] = {"_scalars": _SCALAR_TYPES, "_encode": encode, "_decode": decode, **names}
    exec(compile(source, f"<device bus {name}>", "exec"), namespace)  # the source is built above from field names
    function: Converter = namespace[name]
    return function
