"""The ``heyan`` command line and settings. Domain code lives in the sibling packages."""

from importlib.metadata import version

__version__ = version("heyan")
