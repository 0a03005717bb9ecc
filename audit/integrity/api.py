"""The integrity API under /api/v1/audit: the verifiable export, checkpoints, public keys,
Merkle proofs.

With these an auditor checks, from outside, that an event is in the signed log and that
the log only ever grew. Readers as for the rest of the audit API (audit/readers.py).
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from audit.extensions import checkpoint_signer, current_reader, sequencer
from audit.integrity.checkpoints import checkpoints_page, published_keys
from audit.integrity.log_export import start_log_export, stream_log_export
from audit.integrity.proofs import prove_consistency, prove_inclusion
from audit.integrity.schemas import (
    CheckpointOut,
    CheckpointPageIn,
    CheckpointPageOut,
    ConsistencyProofIn,
    ConsistencyProofOut,
    InclusionProofIn,
    InclusionProofOut,
    NoQueryIn,
    PublicKeysOut,
    SigningKeyOut,
)
from core.scopes import Scope
from core.web.api import parse_query
from core.web.api_docs import documented
from core.web.request_scope import clock, db_session, session_factory

api = Blueprint("audit_integrity_api", __name__, url_prefix="/api/v1/audit")
key_out = SigningKeyOut()


@api.get("/export")
@documented(
    "The verifiable export for python -m audit.verify (JSON Lines; recorded)",
    query=NoQueryIn,
    scope=Scope.AUDIT_READ,
    media_types=("application/x-ndjson",),
)
def export() -> Response:
    """The whole log for ``python -m audit.verify``; recorded, then chained and checkpointed
    by the sequencer before the first byte streams (a 503 if it is too far behind)."""
    reader = current_reader()
    parse_query(NoQueryIn())
    now = clock().now()
    signer = checkpoint_signer()
    tree_size = start_log_export(
        session_factory(), sequencer(), reader.actor, destination="download", now=now
    )
    return Response(
        stream_log_export(session_factory(), tree_size, now=now, signer=signer),
        content_type="application/x-ndjson",
        headers={
            "Content-Disposition": f'attachment; filename="audit-log-{tree_size}.jsonl"',
            "Cache-Control": "no-store",
        },
    )


@api.get("/checkpoints")
@documented(
    "Signed checkpoints of the log, newest first",
    query=CheckpointPageIn,
    response=CheckpointPageOut,
    scope=Scope.AUDIT_READ,
)
def checkpoints() -> Response:
    current_reader()
    query = parse_query(CheckpointPageIn())
    page, next_before = checkpoints_page(
        db_session(), before=query.get("before"), limit=query["limit"]
    )
    return jsonify({"checkpoints": CheckpointOut(many=True).dump(page), "next": next_before})


@api.get("/public-key")
@documented(
    "The keys that sign checkpoints",
    query=NoQueryIn,
    response=PublicKeysOut,
    scope=Scope.AUDIT_READ,
)
def public_key() -> Response:
    current_reader()
    session = db_session()
    current, previous = published_keys(session, checkpoint_signer())
    return jsonify(
        {"current": key_out.dump(current), "previous": key_out.dump(previous, many=True)}
    )


@api.get("/events/<int:seq>/proof")
@documented(
    "Inclusion proof of an event in a checkpoint",
    query=InclusionProofIn,
    response=InclusionProofOut,
    scope=Scope.AUDIT_READ,
)
def inclusion(seq: int) -> Response:
    current_reader()
    query = parse_query(InclusionProofIn())
    return jsonify(
        InclusionProofOut().dump(prove_inclusion(db_session(), seq, query.get("tree_size")))
    )


@api.get("/consistency")
@documented(
    "Consistency proof between two checkpoints",
    query=ConsistencyProofIn,
    response=ConsistencyProofOut,
    scope=Scope.AUDIT_READ,
)
def consistency() -> Response:
    current_reader()
    query = parse_query(ConsistencyProofIn())
    return jsonify(
        ConsistencyProofOut().dump(
            prove_consistency(db_session(), query["from_size"], query["to_size"])
        )
    )
