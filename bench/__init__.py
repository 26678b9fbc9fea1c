"""Benchmarks (`make bench`): Orderline against a stock RQ baseline and a lean limit, in one run."""
