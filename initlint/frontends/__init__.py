"""Frontends: the only framework-aware code. Each turns its input into :class:`~initlint.records.LayerRecord` s.

- ``python/``: what both source frontends share (the parsed file, names, positions, syntax readers);
- ``torch/`` and ``keras/``: PyTorch and Keras source, read with libcst and never executed;
- ``onnx/``: ONNX graphs, their weights measured;
- ``live/``: live torch (and Keras-on-torch) models, traced and run once.
"""
