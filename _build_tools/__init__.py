"""Build-only helpers (imported by conf.py, never by nndl_core)."""
