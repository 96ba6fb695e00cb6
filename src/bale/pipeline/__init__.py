"""Pipelines: the stages of every `dvc.yaml`, their DAG, whether each is up
to date against `dvc.lock`, and `repro`, which reruns what changed."""
