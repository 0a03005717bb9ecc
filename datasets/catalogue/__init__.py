"""The catalogue: studies, consent groups (datasets) and their files, registering objects
already in storage (one by one or from a manifest), and the catalogue pages and API."""
