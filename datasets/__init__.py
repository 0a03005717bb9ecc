"""The catalogue: studies, consent groups, files, storage and signed URLs, downloads."""
