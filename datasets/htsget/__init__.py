"""GA4GH htsget 1.3 over the catalogue: region slices of indexed VCFs and BAMs."""
