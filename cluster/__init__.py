"""Distributed training on Dask (data-parallel histogram allreduce, feature-parallel splits)."""
