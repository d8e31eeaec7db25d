"""Shipped recipes of the ``external`` method, one TOML file per tool (see :mod:`void_eval.methods.recipe`)."""
