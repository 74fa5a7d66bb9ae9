"""Key hierarchy, OS keyring, encrypted blob store, SQLite index and audit log."""
