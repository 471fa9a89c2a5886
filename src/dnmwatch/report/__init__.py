"""The HTML report: protected indicators as one self-contained page with charts.

* :mod:`.build` computes every figure through :mod:`dnmwatch.estimate.indicators`;
* :mod:`.disclosed` applies disclosure control before anything is shown;
* :mod:`.charts` and :mod:`.tables` turn protected rows into Vega-Lite specs and HTML tables;
* :mod:`.render` writes one HTML file with the chart libraries inlined (Jinja2, autoescape on);
* :mod:`.cli` registers ``dnmwatch report``.

Importing this package does no I/O and imports no sub-module.
"""
