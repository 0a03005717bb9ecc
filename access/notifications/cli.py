"""``flask notify ...``: send the queued emails, queue grant-expiry reminders.

Run both from cron or a systemd timer, e.g. ``send`` every minute and ``remind`` daily;
several ``send`` processes may run at once (see outbox.py).
"""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from access.extensions import dataset_directory
from access.notifications.composers import queue_expiry_reminders
from access.notifications.outbox import BATCH, send_due_emails
from access.notifications.sender import SmtpMailer, SmtpSettings
from config import Settings
from core.web.request_scope import clock, session_factory

notify_cli = AppGroup("notify", help="Email notifications: send the outbox, queue reminders.")


def mailer_for(settings: Settings) -> SmtpMailer:
    if not settings.smtp_host:
        raise click.UsageError("Set CUSTODIAN_SMTP_HOST (and the other CUSTODIAN_SMTP_* "
                               "settings) to send email; until then emails wait in the outbox.")
    return SmtpMailer(SmtpSettings(
        host=settings.smtp_host, port=settings.smtp_port, sender=settings.smtp_from,
        username=settings.smtp_username, password=settings.smtp_password,
        starttls=settings.smtp_starttls, ca_file=settings.smtp_ca_file))


@notify_cli.command("send")
def send_command() -> None:
    """Send every email that is due; failures are retried later with backoff."""
    settings: Settings = current_app.config["CUSTODIAN_SETTINGS"]
    mailer = mailer_for(settings)
    sent = retrying = failed = 0
    while True:  # batch after batch, until a batch comes back short: nothing more is due
        report = send_due_emails(session_factory(), mailer, now=clock().now())
        sent, retrying, failed = (sent + report.sent, retrying + report.retrying,
                                  failed + report.failed)
        if report.sent + report.retrying + report.failed < BATCH:
            break
    click.echo(f"Sent {sent}; {retrying} to retry; {failed} failed for good.")


@notify_cli.command("remind")
@click.option("--days", "days", multiple=True, type=click.IntRange(1, 365),
              default=(30, 7), show_default=True, help="Remind this many days before expiry.")
def remind_command(days: tuple[int, ...]) -> None:
    """Queue a reminder for each grant ending within a window (once per grant per window)."""
    settings: Settings = current_app.config["CUSTODIAN_SETTINGS"]
    with session_factory().begin() as session:
        queued = queue_expiry_reminders(session, clock().now(), public_url=settings.public_url,
                                        directory=dataset_directory(), days_before=days)
    click.echo(f"Queued {len(queued)} reminder(s).")
