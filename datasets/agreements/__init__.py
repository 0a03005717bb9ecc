"""Data-use agreements: versioned text per dataset, published by admins, accepted by each
user, checked by every controlled download."""
