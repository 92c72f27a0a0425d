"""The ONNX frontend: graph structure, weights measured from their statistics, optional propagation."""
