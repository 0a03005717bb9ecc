"""What the service knows of genomic file formats: BGZF blocks, their indexes (tabix, CSI,
BAI) and the headers of VCF and BAM. Pure functions over bytes, shared by the catalogue
(an index must belong to its file) and htsget (tickets built from the index)."""
