"""Science products: immutable files in a directory next to the persistent store.

A product is written once, atomically (temporary file, fsync, rename), so that a reset never
leaves a half-written product under its final name, and a downlink in progress can trust that
the octets under a name never change.
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass
from pathlib import Path

from fsw.protocol.file_pdu import PRODUCT_NAME

NAME_PATTERN = PRODUCT_NAME
# A folder's modification time ticks with the kernel's coarse clock (a few ms): two arrivals closer
# than this may share one, so a listing taken this soon after the folder's time is not trusted.
LISTING_RACE_NS = 50_000_000


class ProductError(ValueError):
    pass


@dataclass(frozen=True)
class ProductInfo:
    name: str
    size: int
    sha256: bytes


def products_directory(store_path: str | os.PathLike[str]) -> Path:
    """``<store>.products/``: products live and die with the store they belong to."""
    return Path(f"{os.fspath(store_path)}.products")


def check_name(name: str) -> str:
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise ProductError(f"bad product name {name!r}: 1-64 of A-Z a-z 0-9 _ . - (no path)")
    return name


class ProductStore:
    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)
        self._listing: tuple[int, list[tuple[str, int]]] | None = None  # (the folder's time, listing)
        self.directory.mkdir(parents=True, exist_ok=True)
        for stale in self.directory.glob(".*.tmp"):  # a write cut short by a reset
            stale.unlink(missing_ok=True)

    def path(self, name: str) -> Path:
        return self.directory / check_name(name)

    def write(self, name: str, data: bytes) -> ProductInfo:
        final = self.path(name)
        if final.exists():
            raise ProductError(f"product {name} exists; products are immutable")
        temporary = self.directory / f".{name}.tmp"
        with open(temporary, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, final)
        return ProductInfo(name, len(data), hashlib.sha256(data).digest())

    def exists(self, name: str) -> bool:
        return self.path(name).is_file()

    def read(self, name: str) -> bytes:
        try:
            return self.path(name).read_bytes()
        except FileNotFoundError as error:
            raise ProductError(f"no product {name}") from error

    def info(self, name: str) -> ProductInfo:
        data = self.read(name)
        return ProductInfo(name, len(data), hashlib.sha256(data).digest())

    def names(self) -> list[str]:
        return sorted(p.name for p in self.directory.iterdir() if p.is_file() and NAME_PATTERN.match(p.name))

    def listing(self) -> list[tuple[str, int]]:
        """(name, size) of every product, by name. Products arrive by rename and never change, so the
        folder's modification time moves with every arrival and deletion (whichever store made it):
        the folder is read again only then (housekeeping asks every second)."""
        stamp = self.directory.stat().st_mtime_ns
        if self._listing is not None and self._listing[0] == stamp:
            return list(self._listing[1])
        taken = time.time_ns()
        listing = [(name, self.path(name).stat().st_size) for name in self.names()]
        # Kept only once the folder's time is safely past: a later arrival then moves it.
        self._listing = (stamp, listing) if taken - stamp > LISTING_RACE_NS else None
        return list(listing)

    def delete(self, name: str) -> None:
        try:
            self.path(name).unlink()
        except FileNotFoundError as error:
            raise ProductError(f"no product {name}") from error

    def total_bytes(self) -> int:
        return sum(size for _, size in self.listing())
