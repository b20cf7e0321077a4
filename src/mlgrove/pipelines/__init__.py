"""Pipelines as typed Python steps: the DAG, content-addressed step caching and executors."""
