"""A factory that returns something else than a model."""


def build():
    return {"layers": 3}
