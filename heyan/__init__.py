"""The ``heyan`` command line and settings. Domain code lives in the sibling packages."""

__version__ = "0.1.0"
