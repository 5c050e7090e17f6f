"""Benchmarks: quantstrata side by side with the peer libraries users would otherwise reach for.

Run ``python -m bench [suite ...] [--size full|small|tiny]``; see :mod:`bench.harness` for how
time and memory are measured and ``bench/__main__.py`` for the list of suites.
"""
