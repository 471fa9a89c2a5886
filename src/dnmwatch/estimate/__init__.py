"""The estimate stage: sales from de-duplicated feedback, and the ``dnmwatch build`` command.

:func:`dnmwatch.estimate.build.build` runs consolidate + estimate over a store;
:mod:`.sales` holds the sales rules; :mod:`.accuracy` compares a store with simulator truth
files (Parquet, read in place, so this package never imports ``sim``).
"""

from __future__ import annotations

from dnmwatch.estimate.build import BuildOptions, BuildResult, build

__all__ = ["BuildOptions", "BuildResult", "build"]
