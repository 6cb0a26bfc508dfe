"""The append-only audit log (审计日志): who changed what, when, from where."""
