"""The live-model frontend: imports a model, measures its tensors, traces consumers and runs one pass."""
