"""edge package (filled by later issues)."""
