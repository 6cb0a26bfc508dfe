"""Shared building blocks: money and FX, dates, messages, errors."""
