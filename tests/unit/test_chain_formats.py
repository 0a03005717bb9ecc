"""The two chain formats (audit/log/chain.py): what each hashes, and logs that hold both.

A log recorded before LINKED events existed goes on with them after an upgrade, so every
verifier must take SEPARATE and LINKED events in one chain, and its batch check must
confirm long runs of either without falling back to the line-by-line check.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit.integrity import export_format
from audit.integrity import offline_verifier as verify
from audit.integrity.merkle import root_of
from audit.integrity.signed_note import checkpoint_text, raw_public_key, sign_note
from audit.log.chain import LINKED, SEPARATE, canonical_bytes, chain_format, event_hashes

ORIGIN = "example.org/audit"
PREV = "ab" * 32
SIGNING_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))


def fields(seq: int) -> dict[str, Any]:
    return {
        "seq": seq, "occurred_at": datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
        + timedelta(seconds=seq, microseconds=seq), "action": "url:issue",
        "outcome": "success", "actor_user_id": seq % 7, "actor_issuer": "https://idp.example",
        "actor_subject": f"subject-{seq}", "actor_token_id": None, "actor_roles": "researcher",
        "ip": "192.0.2.1", "user_agent": "Zürich/1.0", "request_id": f"r{seq}",
        "target_type": "file", "target_id": str(seq), "details": {"dataset_id": 2, "seq": 99},
    }


def test_a_linked_event_has_one_hash_the_rfc_6962_leaf_of_link_and_event() -> None:
    encoded = canonical_bytes(fields(1))
    expected = hashlib.sha256(b"\x00" + bytes.fromhex(PREV) + encoded).hexdigest()
    assert event_hashes(PREV, fields(1)) == (expected, expected)
    assert chain_format(expected, expected) == LINKED


def test_a_separate_event_chains_and_leaves_over_the_whole_event_apart() -> None:
    encoded = canonical_bytes(fields(1))
    chain, leaf = event_hashes(PREV, fields(1), SEPARATE)
    assert chain == hashlib.sha256(bytes.fromhex(PREV) + encoded).hexdigest()
    assert leaf == hashlib.sha256(b"\x00" + encoded).hexdigest()
    assert chain_format(chain, leaf) == SEPARATE


@pytest.mark.parametrize("fmt", [SEPARATE, LINKED])
@pytest.mark.parametrize("change", [{"action": "auth:logout"}, {"actor_user_id": 2},
                                    {"details": {"dataset_id": 3, "seq": 99}}, {"seq": 2}])
def test_every_field_and_the_link_change_the_hashes(fmt: int, change: dict[str, Any]) -> None:
    original = event_hashes(PREV, fields(1), fmt)
    assert event_hashes(PREV, fields(1) | change, fmt)[0] != original[0]
    assert event_hashes("cd" * 32, fields(1), fmt)[0] != original[0]


def write_export(path: Path, formats: list[int], *, laid_out: bool = True) -> list[str]:
    """A signed export of ``len(formats)`` events, event n hashed in ``formats[n - 1]``."""
    records: list[dict[str, Any]] = []
    prev = "0" * 64
    for seq, fmt in enumerate(formats, start=1):
        chain, leaf = event_hashes(prev, fields(seq), fmt)
        records.append({"type": "event", **fields(seq), "prev_hash": prev, "hash": chain,
                        "leaf_hash": leaf})
        prev = chain
    root = root_of([bytes.fromhex(record["leaf_hash"]) for record in records])
    note = sign_note(checkpoint_text(ORIGIN, len(records), root), ORIGIN, SIGNING_KEY)
    header = {"type": "header", "format": export_format.FORMAT, "version": export_format.VERSION,
              "origin": ORIGIN, "tree_size": len(records)}
    checkpoint = {"type": "checkpoint", "tree_size": len(records), "note": note,
                  "consistency": None}
    lines = [json.dumps(header) + "\n"]
    for record in records:
        stored = {name: value for name, value in record.items() if name != "type"}
        lines.append(export_format.event_line(stored) if laid_out else json.dumps(
            {**record, "occurred_at": record["occurred_at"].strftime(
                "%Y-%m-%dT%H:%M:%S.%fZ")}) + "\n")
    lines.append(json.dumps(checkpoint) + "\n")
    path.write_text("".join(lines), encoding="utf-8")
    return lines


def verify_counting_slow_lines(path: Path, monkeypatch: pytest.MonkeyPatch
                               ) -> tuple[verify.Report, int]:
    """The report, and how many event lines the line-by-line check had to judge."""
    judged = []
    line_by_line = verify._Verifier.event

    def event(self: verify._Verifier, line: int, record: dict[str, Any]) -> None:
        judged.append(line)
        line_by_line(self, line, record)

    monkeypatch.setattr(verify._Verifier, "event", event)
    trusted = [raw_public_key(SIGNING_KEY.public_key())]
    return verify.verify_export(path, trusted), len(judged)


# Enough events for several of the verifier's batches: the switch from one format to the
# other falls inside one batch, which alone goes line by line.
SWITCH, EVENTS = 700, 2000


@pytest.mark.parametrize("laid_out", [True, False], ids=["laid out", "re-encoded"])
def test_a_log_that_switches_format_verifies_and_runs_of_each_are_checked_in_batches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, laid_out: bool
) -> None:
    path = tmp_path / "audit.jsonl"
    write_export(path, [SEPARATE] * SWITCH + [LINKED] * (EVENTS - SWITCH), laid_out=laid_out)
    report, slow = verify_counting_slow_lines(path, monkeypatch)
    assert report.ok and report.events == EVENTS, report.describe()
    if laid_out:
        batch = verify.BATCH_BYTES // 600
        assert 0 < slow < batch  # the one batch that holds the switch
    else:
        assert slow == EVENTS  # nothing laid out: every line parsed and re-encoded


@pytest.mark.parametrize("fmt", [SEPARATE, LINKED])
def test_a_log_of_one_format_needs_no_line_by_line_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: int
) -> None:
    path = tmp_path / "audit.jsonl"
    write_export(path, [fmt] * EVENTS)
    report, slow = verify_counting_slow_lines(path, monkeypatch)
    assert report.ok and report.events == EVENTS, report.describe()
    assert slow == 0


def test_a_linked_event_whose_leaf_hash_is_changed_cannot_pass_as_separate(
    tmp_path: Path,
) -> None:
    """Changing the stored hashes changes which format an event is read in; neither fits."""
    path = tmp_path / "audit.jsonl"
    lines = write_export(path, [SEPARATE] * 10 + [LINKED] * 10)
    record = json.loads(lines[15])
    record["leaf_hash"] = event_hashes(record["prev_hash"], record, SEPARATE)[1]
    lines[15] = json.dumps(record) + "\n"
    path.write_text("".join(lines), encoding="utf-8")
    report = verify.verify_export(path, [raw_public_key(SIGNING_KEY.public_key())])
    assert report.finding is not None
    assert (report.finding.kind, report.finding.line) == ("changed", 16), report.describe()
    assert "leaf hash does not match its content" in report.finding.message


def test_an_edited_event_is_caught_in_either_format(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    lines = write_export(path, [SEPARATE] * 10 + [LINKED] * 10)
    for number in (5, 15):
        edited = lines.copy()
        edited[number] = edited[number].replace('"ip":"192.0.2.1"', '"ip":"192.0.2.9"')
        path.write_text("".join(edited), encoding="utf-8")
        report = verify.verify_export(path, [raw_public_key(SIGNING_KEY.public_key())])
        assert report.finding is not None
        assert (report.finding.kind, report.finding.line) == ("changed", number + 1)


def test_exports_of_version_1_are_still_read(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    lines = write_export(path, [SEPARATE] * 5)
    lines[0] = lines[0].replace(f'"version": {export_format.VERSION}', '"version": 1')
    path.write_text("".join(lines), encoding="utf-8")
    assert verify.verify_export(path, [raw_public_key(SIGNING_KEY.public_key())]).ok
    lines[0] = lines[0].replace('"version": 1', '"version": 3')
    path.write_text("".join(lines), encoding="utf-8")
    report = verify.verify_export(path, [raw_public_key(SIGNING_KEY.public_key())])
    assert report.finding is not None and report.finding.kind == "malformed"
    assert "export version 3" in report.finding.message
