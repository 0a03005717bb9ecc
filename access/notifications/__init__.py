"""Email notifications: composed and queued in the transaction of the action they report
(outbox), sent later over SMTP with retries (sender), and ``flask notify``."""
