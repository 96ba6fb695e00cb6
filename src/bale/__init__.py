"""bale: a data and model registry on git, speaking DVC's formats."""

__version__ = "0.1.0"
