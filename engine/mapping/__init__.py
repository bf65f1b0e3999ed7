"""Kalshi market -> Odds API event/outcome mapping. A wrong match is the costliest bug: ambiguity maps nothing.

Modules, one job each:

- ``resolver``: ``resolve(markets, events, overrides=)`` -> ``MappingResult`` and ``winner_groups(markets)``.
- ``teams`` + ``data/*.json``: team tables per league (codes across seasons, names) and ``LEAGUES``.
- ``ticker``: the sports ticker grammar (Eastern date, start time, doubleheader number, suffixes).
- ``rules``: what the market text says (YES team, teams, date, side of the line), a second witness.
- ``witness``: whether that text names a side of the game (or another game), checked against the sides.
- ``games``: finding the one Odds API event of a Kalshi game (teams, date, start time, fuzzy names).
- ``fuzzy``: batch rapidfuzz scoring with subset/qualifier refusal (``Miami`` is not ``Miami (OH)``).
- ``overrides``: operator pairs and blocks, hot-reloaded; ``cache``: ``Mapper`` keeps matches and evidence.
- ``discovery``: which series from ``GET /series`` / ``GET /events`` are priced (timings: ``engine.bench.mapping``).
"""
