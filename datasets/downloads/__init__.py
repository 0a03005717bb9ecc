"""Signed URLs: issued only under a live grant (or for open files), audited, and for the
local backend served by the app itself with their signature checked."""
