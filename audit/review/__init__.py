"""The auditors' side: search, access reports, the downloads chart, alerts, exports of a
search, and their pages and API."""
