"""Columns a database dump must not give away, encrypted in the application: AES-256-GCM
under a key from the settings, with key rotation.

A stored value reads ``enc1:<key id>:<base64 of nonce and ciphertext>``. The key id says
which key wrote it, so old keys keep decrypting while new writes use the current key, and
``flask keys reencrypt`` rewrites only what an old key wrote. The column's own name is the
associated data: a ciphertext copied into another column (a statement into an email field
shown to someone else) does not decrypt there.

The keys belong to an engine (one per app, see app.py), not to the process: tests and tools
run apps with different keys side by side. Equal values encrypt differently (each write draws
a fresh nonce), so SQL cannot compare them; a column that must be found by value (an email)
names a lookup column beside it, kept to a keyed hash (HMAC-SHA256) of the normalised value
and searched under every key, current and previous, so rotation never hides a row.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from weakref import WeakKeyDictionary

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import Engine, Table, Text, column, event, select, table, update
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.orm import Mapper
from sqlalchemy.types import TypeDecorator

FORMAT = "enc1"
NONCE_BYTES = 12


class DataKeyError(Exception):
    """No key for a value, or a value that is not what the key wrote: never client input."""


def _derive(secret: str, purpose: bytes = b"custodian field encryption v1") -> bytes:
    """Any long random secret (``flask keys generate``) becomes a 256-bit key per purpose."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(
        secret.encode()
    )


def normalised(value: str) -> str:
    """What a lookup compares: emails match whatever their case and surrounding blanks."""
    return value.strip().lower()


def key_id(secret: str) -> str:
    """Eight hex digits naming the key, from a hash of the derived key (reveals nothing)."""
    return hashlib.sha256(b"key id:" + _derive(secret)).hexdigest()[:8]


class DataKeys:
    """The current key (every write) and the previous ones (reads only, until re-encrypted)."""

    def __init__(self, current: str, previous: Sequence[str] = ()) -> None:
        if len(current) < 32:
            raise DataKeyError("the data key must be at least 32 characters")
        self.current_id = key_id(current)
        self._keys = {key_id(secret): AESGCM(_derive(secret)) for secret in (*previous, current)}
        self._lookup_keys = {
            key_id(secret): _derive(secret, b"custodian lookup v1")
            for secret in (current, *previous)
        }

    def encrypt(self, plaintext: str, context: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._keys[self.current_id].encrypt(nonce, plaintext.encode(), context.encode())
        return f"{FORMAT}:{self.current_id}:{base64.b64encode(nonce + sealed).decode()}"

    def decrypt(self, stored: str, context: str) -> str:
        name, _, rest = stored.partition(":")
        kid, _, payload = rest.partition(":")
        if name != FORMAT or kid not in self._keys:
            raise DataKeyError(f"{context}: not encrypted with a known key (key id {kid!r})")
        try:
            raw = base64.b64decode(payload, validate=True)
            opened = self._keys[kid].decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], context.encode())
        except (InvalidTag, binascii.Error, ValueError):
            raise DataKeyError(f"{context}: a value does not decrypt with its key") from None
        return opened.decode()

    def is_current(self, stored: str) -> bool:
        return stored.startswith(f"{FORMAT}:{self.current_id}:")

    def lookup(self, value: str, context: str) -> str:
        """The lookup hash a write stores: under the current key."""
        return self._hash(self._lookup_keys[self.current_id], value, context)

    def lookups(self, value: str, context: str) -> list[str]:
        """What a search asks for: the value's hash under every key, current first."""
        return [self._hash(key, value, context) for key in self._lookup_keys.values()]

    @staticmethod
    def _hash(key: bytes, value: str, context: str) -> str:
        message = f"{context}\0{normalised(value)}".encode()
        return hmac.new(key, message, hashlib.sha256).hexdigest()


_ENGINE_KEYS: WeakKeyDictionary[Dialect, DataKeys] = WeakKeyDictionary()


def use_data_keys(engine: Engine, keys: DataKeys) -> None:
    """The keys this engine's encrypted columns read and write with (a dialect per engine)."""
    _ENGINE_KEYS[engine.dialect] = keys


def data_keys_of(dialect: Dialect) -> DataKeys:
    keys = _ENGINE_KEYS.get(dialect)
    if keys is None:
        raise DataKeyError("this database engine has no data key (core.field_encryption)")
    return keys


class EncryptedText(TypeDecorator[str]):
    """Text stored encrypted; ``context`` ("table.column") binds each value to its column;
    ``lookup`` names the column of the same row that keeps its lookup hash, if any."""

    impl = Text
    cache_ok = True

    def __init__(self, context: str, lookup: str | None = None) -> None:
        super().__init__()
        self.context = context
        self.lookup = lookup

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else data_keys_of(dialect).encrypt(value, self.context)

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else data_keys_of(dialect).decrypt(value, self.context)


def maintain_lookups(base: type) -> None:
    """Every mapped class under ``base`` refreshes its lookup hashes as a row is written."""
    for hook in ("before_insert", "before_update"):
        event.listen(base, hook, _fill_lookups, propagate=True)


def _fill_lookups(mapper: Mapper[Any], connection: Connection, target: object) -> None:
    for model_column in mapper.columns:
        kind = model_column.type
        if isinstance(kind, EncryptedText) and kind.lookup is not None:
            value = getattr(target, mapper.get_property_by_column(model_column).key)
            hashed = (
                None
                if value is None
                else data_keys_of(connection.dialect).lookup(value, kind.context)
            )
            setattr(target, kind.lookup, hashed)


@dataclass(frozen=True)
class EncryptedColumn:
    table: str
    name: str
    lookup: str | None = None

    @property
    def context(self) -> str:
        return f"{self.table}.{self.name}"


def encrypted_columns(tables: Iterable[Table]) -> list[EncryptedColumn]:
    """Every EncryptedText column of these SQLAlchemy tables (``Base.metadata.sorted_tables``)."""
    found = []
    for model_table in tables:
        for model_column in model_table.columns:
            if isinstance(model_column.type, EncryptedText):
                found.append(
                    EncryptedColumn(model_table.name, model_column.name, model_column.type.lookup)
                )
    return found


def rewrite_column(
    connection: Connection,
    target: EncryptedColumn,
    keys: DataKeys,
    *,
    encrypting: bool = False,
    decrypting: bool = False,
    batch: int = 500,
) -> int:
    """Rewrite one column's stored values in place, ``batch`` rows per statement round; returns
    how many rows changed. Re-encrypt (the default): values an old key wrote get the current
    key. ``encrypting``: plaintext (a migration's existing rows) becomes ciphertext;
    ``decrypting``: the reverse, for a downgrade. Rows are walked by id, so memory stays flat."""
    names = [target.name] + ([target.lookup] if target.lookup else [])
    raw = table(target.table, column("id"), *(column(name, Text) for name in names))
    changed, last_id = 0, 0
    while True:
        rows = connection.execute(
            select(raw.c.id, raw.c[target.name])
            .where(raw.c.id > last_id, raw.c[target.name].is_not(None))
            .order_by(raw.c.id)
            .limit(batch)
        ).all()
        if not rows:
            return changed
        for row_id, stored in rows:
            if not encrypting and not decrypting and keys.is_current(stored):
                continue
            plain = stored if encrypting else keys.decrypt(stored, target.context)
            values = {target.name: plain if decrypting else keys.encrypt(plain, target.context)}
            if target.lookup:
                values[target.lookup] = None if decrypting else keys.lookup(plain, target.context)
            connection.execute(update(raw).where(raw.c.id == row_id).values(values))
            changed += 1
        last_id = rows[-1][0]
