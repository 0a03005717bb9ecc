"""GA4GH DRS 1.5 over the catalogue: a DRS object is one catalogue file."""
