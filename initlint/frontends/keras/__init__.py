"""The Keras source frontend: Sequential, functional and subclassed models read with libcst."""
