"""Checkpoints as C2SP signed notes (c2sp.org/tlog-checkpoint, c2sp.org/signed-note).

A standard format, so any tlog tool can read our tree heads, and the standard library plus
``cryptography`` only, so the offline verifier shares this module with the service.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_pem_public_key,
)

ED25519 = b"\x01"
SIGNATURE_PREFIX = "\u2014 "  # an em dash and a space open every signature line
MAX_SIGNATURES = 16


class NoteError(ValueError):
    """The note is malformed."""


class UntrustedNote(NoteError):
    """No trusted key's signature on the note verifies."""


@dataclass(frozen=True)
class Signature:
    key_name: str
    key_id: bytes
    signature: bytes


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    tree_size: int
    root_hash: bytes


def raw_public_key(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def public_key_pem(public_key: bytes) -> str:
    return Ed25519PublicKey.from_public_bytes(public_key).public_bytes(
        Encoding.PEM, PublicFormat.SubjectPublicKeyInfo
    ).decode()


def load_public_key_pem(pem: bytes) -> bytes:
    """The raw key from an Ed25519 public key in PEM; ValueError for anything else."""
    key = load_pem_public_key(pem)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    return raw_public_key(key)


def key_id(name: str, public_key: bytes) -> bytes:
    """SHA-256(name || 0x0A || 0x01 || key)[:4], as signed-note recommends for Ed25519."""
    return hashlib.sha256(name.encode() + b"\n" + ED25519 + public_key).digest()[:4]


def verifier_key(name: str, public_key: bytes) -> str:
    """The ``<name>+<hex id>+<base64(0x01 || key)>`` string tlog tools take as a key."""
    encoded = base64.b64encode(ED25519 + public_key).decode()
    return f"{name}+{key_id(name, public_key).hex()}+{encoded}"


def checkpoint_text(origin: str, tree_size: int, root_hash: bytes) -> str:
    return f"{origin}\n{tree_size}\n{base64.b64encode(root_hash).decode()}\n"


def sign_note(text: str, name: str, private_key: Ed25519PrivateKey) -> str:
    signature = private_key.sign(text.encode())
    public_key = raw_public_key(private_key.public_key())
    encoded = base64.b64encode(key_id(name, public_key) + signature).decode()
    return f"{text}\n{SIGNATURE_PREFIX}{name} {encoded}\n"


def split_note(note: str) -> tuple[str, list[Signature]]:
    """The signed text (with its final newline) and the signature lines after the last blank."""
    if any(ord(char) < 0x20 and char != "\n" for char in note):
        raise NoteError("the note contains control characters")
    cut = note.rfind("\n\n")
    if cut < 0 or not note.endswith("\n"):
        raise NoteError("the note has no signature block")
    text, lines = note[: cut + 1], note[cut + 2 :].splitlines()
    if not lines or len(lines) > MAX_SIGNATURES:
        raise NoteError("the note must carry between 1 and 16 signatures")
    return text, [_parse_signature(line) for line in lines]


def parse_checkpoint(text: str) -> Checkpoint:
    lines = text.split("\n")
    if len(lines) < 4 or lines[-1] != "" or not all(lines[:-1]):
        raise NoteError("a checkpoint is an origin, a tree size and a root hash, one per line")
    origin, size, root = lines[:3]
    if not size.isdigit() or (size.startswith("0") and size != "0"):
        raise NoteError(f"the tree size {size!r} is not a decimal number")
    try:
        root_hash = base64.b64decode(root, validate=True)
    except binascii.Error:
        raise NoteError("the root hash is not base64") from None
    if len(root_hash) != 32:
        raise NoteError("the root hash is not 32 bytes long")
    return Checkpoint(origin, int(size), root_hash)


def open_checkpoint(note: str, trusted: Iterable[bytes]) -> tuple[Checkpoint, Signature]:
    """The checkpoint, once a trusted key signed it under the checkpoint's own origin.

    As signed-note requires, signatures by unknown keys are skipped, and a known key whose
    signature fails rejects the whole note.
    """
    text, signatures = split_note(note)
    checkpoint = parse_checkpoint(text)
    keys = list(trusted)
    for signature in signatures:
        for public_key in keys:
            if key_id(signature.key_name, public_key) != signature.key_id:
                continue
            try:
                Ed25519PublicKey.from_public_bytes(public_key).verify(
                    signature.signature, text.encode()
                )
            except InvalidSignature:
                raise UntrustedNote(
                    f"bad signature by key {signature.key_name} {signature.key_id.hex()}"
                ) from None
            if signature.key_name != checkpoint.origin:
                raise UntrustedNote(
                    f"signed as {signature.key_name}, but the checkpoint is for {checkpoint.origin}"
                )
            return checkpoint, signature
    signers = ", ".join(f"{s.key_name} {s.key_id.hex()}" for s in signatures)
    raise UntrustedNote(f"no trusted key signed this checkpoint (signed by: {signers})")


def _parse_signature(line: str) -> Signature:
    if not line.startswith(SIGNATURE_PREFIX):
        raise NoteError("a signature line must start with an em dash and a space")
    name, _, encoded = line[len(SIGNATURE_PREFIX) :].partition(" ")
    try:
        raw = base64.b64decode(encoded, validate=True)
    except binascii.Error:
        raise NoteError("a signature is not base64") from None
    if not name or "+" in name or len(raw) < 5:
        raise NoteError("a signature line needs a key name and a key id with a signature")
    return Signature(name, raw[:4], raw[4:])
