"""Satisfaction surveys: the beneficiary's right to rate every service (models, service, metrics, pages, API)."""
