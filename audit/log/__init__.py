"""Appending events to the chain: the event table, the action tags, the canonical encoding
and hashes, and the alarm raised when an audit write fails."""
