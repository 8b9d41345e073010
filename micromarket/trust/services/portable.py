"""Writes of the portable area: there are none. An export is a signed read
(``selectors.portable.reputation_document``); the signing key is created on first use by
``trust.signing``. See docs/trust.md."""
