"""Templates and static assets of `promoter dashboard` (package data)."""
