"""Input and output schemas of the integrity API: checkpoints, public keys, proofs.

Hashes are hex in JSON, like the chain hashes; only inside a checkpoint note is the root in
base64, because the checkpoint format says so.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from audit.integrity.signed_note import public_key_pem, verifier_key

MAX_SIZE = 2**63 - 1
_SIZE = validate.Range(min=1, max=MAX_SIZE)


class NoQueryIn(Schema):
    """Routes that take no parameters still refuse unknown ones, as every route does."""


class CheckpointPageIn(Schema):
    before = fields.Integer(validate=_SIZE)
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))


class InclusionProofIn(Schema):
    tree_size = fields.Integer(validate=_SIZE)


class ConsistencyProofIn(Schema):
    from_size = fields.Integer(data_key="from", required=True, validate=_SIZE)
    to_size = fields.Integer(data_key="to", required=True, validate=_SIZE)

    @validates_schema
    def _ordered(self, data: dict[str, Any], **_: Any) -> None:
        if data["from_size"] > data["to_size"]:
            raise ValidationError("from must not be larger than to.", "from")


class CheckpointOut(Schema):
    tree_size = fields.Integer()
    root_hash = fields.String()
    key_id = fields.String()
    created_at = fields.DateTime()
    note = fields.String()


class SigningKeyOut(Schema):
    name = fields.String()
    key_id = fields.String()
    public_key_pem = fields.Method("_pem")
    verifier_key = fields.Method("_verifier_key")
    first_used_at = fields.DateTime(allow_none=True)

    def _pem(self, key: Any) -> str:
        return public_key_pem(bytes.fromhex(key.public_key))

    def _verifier_key(self, key: Any) -> str:
        return verifier_key(key.name, bytes.fromhex(key.public_key))


class CheckpointPageOut(Schema):
    checkpoints = fields.List(fields.Nested(CheckpointOut), required=True)
    next = fields.Integer(allow_none=True, required=True)


class PublicKeysOut(Schema):
    current = fields.Nested(SigningKeyOut, required=True)
    previous = fields.List(fields.Nested(SigningKeyOut), required=True)


class InclusionProofOut(Schema):
    seq = fields.Integer()
    leaf_index = fields.Function(lambda proof: proof.seq - 1)
    leaf_hash = fields.Function(lambda proof: proof.leaf_hash.hex())
    tree_size = fields.Function(lambda proof: proof.checkpoint.tree_size)
    root_hash = fields.Function(lambda proof: proof.checkpoint.root_hash)
    proof = fields.Function(lambda proof: [digest.hex() for digest in proof.path])
    checkpoint = fields.Function(lambda proof: proof.checkpoint.note)


class ConsistencyProofOut(Schema):
    from_size = fields.Function(lambda proof: proof.old.tree_size, data_key="from")
    to_size = fields.Function(lambda proof: proof.new.tree_size, data_key="to")
    from_root = fields.Function(lambda proof: proof.old.root_hash)
    to_root = fields.Function(lambda proof: proof.new.root_hash)
    proof = fields.Function(lambda proof: [digest.hex() for digest in proof.path])
    checkpoints = fields.Function(lambda proof: [proof.old.note, proof.new.note])
