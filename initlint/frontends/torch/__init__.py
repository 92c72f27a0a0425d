"""The PyTorch source frontend: an abstract interpreter over libcst trees (never executes the code)."""
