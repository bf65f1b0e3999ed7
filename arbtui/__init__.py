"""The ``arbtui`` command and the Textual dashboard: front ends over the engine, which they never bypass."""

__version__ = "0.1.0"
