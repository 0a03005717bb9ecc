"""Identity and decisions: sign-in, users and roles, committees, requests, grants, tokens."""
