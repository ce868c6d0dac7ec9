"""nenbone package layer."""
