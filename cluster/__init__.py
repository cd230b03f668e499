"""Distributed training on Dask: data-parallel histogram allreduce over per-worker shard actors."""
from cluster.io import read_parquet
from cluster.local import close_embedded, embedded_client
from cluster.sklearn import DaskGBDTClassifier, DaskGBDTRanker, DaskGBDTRegressor
from cluster.train import train

__all__ = ["train", "DaskGBDTClassifier", "DaskGBDTRegressor", "DaskGBDTRanker", "read_parquet", "embedded_client",
           "close_embedded"]
