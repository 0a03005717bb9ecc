"""What falls due when a transaction holding audit events commits: the signed checkpoint
whose size one of them reaches, and the alerts they raise.

Both run in that transaction, before its commit, while it still holds the chain lock
(audit/log/append.py), so checkpoints are ordered like the events and concurrent
appenders see each other's alerts. The app installs these hooks on its session factory
with its signer and rules (audit/install.py); sessions made without them (migrations,
bare test sessions) append without checkpointing or alerting.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from audit.integrity.checkpoints import CheckpointSigner
from audit.log.actions import AuditAction
from audit.log.append import AuditActor, record_event
from audit.log.models import AuditEvent
from audit.review.alerts import AlertRules, find_breaches

_APPENDED = "custodian.audit_appended"  # session.info: this transaction's events, in order


@dataclass(frozen=True)
class CommitHooks:
    signer: CheckpointSigner
    rules: AlertRules

    def before_commit(self, session: Session) -> None:
        appended: list[AuditEvent] = session.info.get(_APPENDED, [])
        done = 0
        while done < len(appended):  # an alert is an event too: it may reach a checkpoint
            appended_event = appended[done]
            done += 1
            self.signer.checkpoint_if_due(session, appended_event.seq,
                                          appended_event.occurred_at)
            for breach in find_breaches(session, appended_event, self.rules):
                record_event(session, AuditActor(request_id=appended_event.request_id),
                             AuditAction.AUDIT_ALERT, now=appended_event.occurred_at,
                             target_type=breach.subject_type, target_id=breach.subject,
                             details=breach.details(appended_event.seq))
        session.info.pop(_APPENDED, None)


def install_commit_hooks(factory: sessionmaker[Session], hooks: CommitHooks) -> None:
    event.listen(factory, "after_flush", _note_appended)
    event.listen(factory, "before_commit", hooks.before_commit)
    event.listen(factory, "after_rollback", _forget_appended)


def _note_appended(session: Session, _flush_context: Any) -> None:
    new_events = [obj for obj in session.new if isinstance(obj, AuditEvent)]
    if new_events:
        session.info.setdefault(_APPENDED, []).extend(sorted(new_events, key=_seq))


def _forget_appended(session: Session) -> None:
    session.info.pop(_APPENDED, None)


def _seq(audit_event: AuditEvent) -> int:
    return audit_event.seq
