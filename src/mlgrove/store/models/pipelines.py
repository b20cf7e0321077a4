"""Pipelines: definitions, pipeline runs, step runs, the shared step cache, retrain rules."""
