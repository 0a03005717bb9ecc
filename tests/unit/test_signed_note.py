"""Checkpoints are C2SP signed notes: byte-exact format, key ids, and what a verifier refuses."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit.integrity import signed_note as notes

ORIGIN = "data.example.org/audit"
ROOT = hashlib.sha256(b"root").digest()


def key(seed: int) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(bytes([seed]) * 32)


def public(private: Ed25519PrivateKey) -> bytes:
    return notes.raw_public_key(private.public_key())


def signed(private: Ed25519PrivateKey | None = None, name: str = ORIGIN) -> str:
    return notes.sign_note(notes.checkpoint_text(ORIGIN, 42, ROOT), name, private or key(1))


def test_a_checkpoint_note_has_the_c2sp_layout() -> None:
    note = signed()
    body, signature_line = note.split("\n\n")
    assert body == f"{ORIGIN}\n42\n{base64.b64encode(ROOT).decode()}"
    assert signature_line.startswith(f"\u2014 {ORIGIN} ") and signature_line.endswith("\n")
    raw = base64.b64decode(signature_line.split(" ")[2])
    assert raw[:4] == notes.key_id(ORIGIN, public(key(1))) and len(raw) == 4 + 64
    key(1).public_key().verify(raw[4:], (body + "\n").encode())


# A fixed note, signed outside this code (Ed25519 is deterministic): the key is the seed
# 32 x 0x01, and with openssl
#   printf '302e020100300506032b657004220420%s' $(printf '01%.0s' $(seq 32)) | xxd -r -p > k.der
#   printf 'data.example.org/audit\n42\n%s\n' "$(printf root | openssl dgst -sha256 -binary \
#     | base64)" > body
#   openssl pkeyutl -sign -rawin -inkey k.der -keyform DER -in body | base64
# signs the body; the line carries the key id (4 bytes) before those 64 bytes.
FIXED_NOTE = (
    "data.example.org/audit\n42\nSBNJTRN+FjG7owHVrKtue7eqdM4RhdRWVl71HXN2d7I=\n\n"
    "\u2014 data.example.org/audit "
    "FI+etYJdTiIFbiLlLbti4v8fq+Cl3hM9vzRF+OdmPpOmx6/r+6qD6DQIXzbzckof/6g3KBmpaW5hy/n13Do8Pyy9kgc=\n"
)


def test_a_checkpoint_note_is_byte_for_byte_the_fixed_vector() -> None:
    assert signed() == FIXED_NOTE
    assert notes.open_checkpoint(FIXED_NOTE, [public(key(1))])[0] == notes.Checkpoint(
        ORIGIN, 42, ROOT)


def test_key_id_and_verifier_key_follow_signed_note() -> None:
    public_key = public(key(1))
    expected = hashlib.sha256(ORIGIN.encode() + b"\n\x01" + public_key).digest()[:4]
    assert notes.key_id(ORIGIN, public_key) == expected
    name, key_hex, encoded = notes.verifier_key(ORIGIN, public_key).split("+", 2)
    assert (name, key_hex) == (ORIGIN, expected.hex())
    assert base64.b64decode(encoded) == b"\x01" + public_key


def test_a_trusted_signature_opens_the_checkpoint() -> None:
    checkpoint, signature = notes.open_checkpoint(signed(), [public(key(2)), public(key(1))])
    assert checkpoint == notes.Checkpoint(ORIGIN, 42, ROOT)
    assert signature.key_id == notes.key_id(ORIGIN, public(key(1)))


def test_a_note_signed_by_another_key_is_not_trusted() -> None:
    with pytest.raises(notes.UntrustedNote, match="no trusted key"):
        notes.open_checkpoint(signed(key(2)), [public(key(1))])


def test_a_changed_text_fails_the_signature() -> None:
    note = signed().replace("\n42\n", "\n43\n")
    with pytest.raises(notes.UntrustedNote, match="bad signature"):
        notes.open_checkpoint(note, [public(key(1))])


def test_a_signature_under_another_name_is_refused() -> None:
    with pytest.raises(notes.UntrustedNote, match="signed as other"):
        notes.open_checkpoint(signed(name="other.example/log"), [public(key(1))])


def test_signatures_from_unknown_keys_are_skipped() -> None:
    text = notes.checkpoint_text(ORIGIN, 42, ROOT)
    witness = notes.sign_note(text, "witness.example/w", key(3)).split("\n\n")[1]
    note = signed() + witness
    checkpoint, _ = notes.open_checkpoint(note, [public(key(1))])
    assert checkpoint.tree_size == 42


@pytest.mark.parametrize("note", [
    "",
    "no signature block\n",
    f"{ORIGIN}\n42\n{base64.b64encode(ROOT).decode()}\n\n- not an em dash\n",
    f"{ORIGIN}\n042\n{base64.b64encode(ROOT).decode()}\n\n\u2014 {ORIGIN} AAAAAAA=\n",
    f"{ORIGIN}\n42\nnot base64!\n\n\u2014 {ORIGIN} AAAAAAA=\n",
    f"{ORIGIN}\n42\n{base64.b64encode(b'short').decode()}\n\n\u2014 {ORIGIN} AAAAAAA=\n",
    f"{ORIGIN}\n42\n\n\u2014 {ORIGIN} AAAAAAA=\n",
    f"{ORIGIN}\r\n42\n{base64.b64encode(ROOT).decode()}\n\n\u2014 {ORIGIN} AAAAAAA=\n",
])
def test_malformed_notes_are_refused(note: str) -> None:
    with pytest.raises(notes.NoteError):
        notes.open_checkpoint(note, [public(key(1))])


def test_public_keys_round_trip_through_pem() -> None:
    assert notes.load_public_key_pem(notes.public_key_pem(public(key(1))).encode()) == \
        public(key(1))
    with pytest.raises(ValueError):
        notes.load_public_key_pem(b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")
