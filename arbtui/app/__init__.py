"""The operator's dashboard: a Textual app over a running engine (in this process, or attached by socket).

Only :mod:`arbtui.app.app`'s ``build_app`` is the entry point; the widgets render ``DashboardSnapshot``
values the engine builds and never compute a price, a fee or a decision.
"""
