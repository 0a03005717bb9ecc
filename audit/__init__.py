"""The append-only, hash-chained audit log: log/ appends and chains events, integrity/
proves it (checkpoints, proofs, exports, the stand-alone verifier), review/ is the
auditors' search, reports and alerts. Imports only core and config; nothing here imports
access or datasets."""
