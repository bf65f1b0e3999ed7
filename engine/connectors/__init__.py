"""Venue adapters: one package per venue (Kalshi, The Odds API), each speaking that venue's wire format.

The core depends only on the typed models these return (``engine.markets``) and the errors in
:mod:`engine.connectors.errors`.
"""
