"""Quality system use cases: users and roles, e-signatures, specifications, deviations,
audit-trail review and batch disposition (21 CFR Part 11, EU GMP Annex 11)."""
