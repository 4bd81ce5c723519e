"""Lifetime bans (终身禁入) of a substantiated abuse's perpetrators and their direct managers,
and their authorised correction. Hiring refusals check these rows (`workflows/registry/`)."""
