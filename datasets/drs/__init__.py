"""GA4GH DRS 1.4 over the catalogue: a DRS object is one catalogue file."""
