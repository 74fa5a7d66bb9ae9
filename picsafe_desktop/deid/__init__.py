"""Metadata scrubbing and visual redaction: bytes in, bytes out, no I/O."""
