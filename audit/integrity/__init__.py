"""Proving the log: Merkle tree, signed checkpoints, inclusion and consistency proofs, the
verifiable export and the stand-alone verifier that reads it."""
