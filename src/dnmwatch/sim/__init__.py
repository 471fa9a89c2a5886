"""The market simulator: a synthetic darknet drug-market ecosystem with known ground truth.

``sim`` is an independent yardstick: it imports nothing from the pipeline (collect, adapters,
sources, normalise, consolidate, estimate) and the pipeline never imports it, so agreement between
the pipeline's estimates and the simulator's truth means something.

Submodules:

* :mod:`dnmwatch.sim.model` – configuration, scale presets and the truth table schemas (the
  contract between the generator, the servers and anyone comparing estimates with the truth);
* the generator (world model, titles, prices, transactions) and the truth writer/reader;
* the web servers (market engines, gates, faults, clock).
"""
