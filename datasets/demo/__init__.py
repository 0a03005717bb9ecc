"""The demo: a synthetic GTEx-like study made from a seed, its personas and committee, and
``flask demo setup``."""
