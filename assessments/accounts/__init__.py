"""Accounts: invitations, bulk onboarding, the audit of account events, allauth/axes glue."""
