"""Label importers, one module per tool's export format; each returns an ImportResult."""
