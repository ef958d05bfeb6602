"""mlgate: pre-commit hooks and a GitHub Action against ML supply-chain attacks."""

__version__ = "0.1.0"
