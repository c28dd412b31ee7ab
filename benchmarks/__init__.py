"""Performance runs against a baseline measured in the same run (see README.md here).

A package, so that the scripts import each other and the test harness (the `tests` package:
servers, hubs, PostgreSQL) by name: run them from the checkout as `python -m benchmarks.NAME`.
"""
