"""The open tier: eQTL summary statistics and median expression, imported from GTEx files
and browsable and downloadable by anyone."""
