"""dnmwatch: systematic monitoring of drug trade on darknet markets.

The package is layered (see ``ARCHITECTURE.md``): importing it does no I/O.
"""

__version__ = "0.1.0"
