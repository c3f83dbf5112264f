"""serve package (filled by later issues)."""
