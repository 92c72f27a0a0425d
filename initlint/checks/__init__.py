"""The checks, one module per rule code, each a pure function ``check(record) -> Verdict | None``."""

from __future__ import annotations

from collections.abc import Callable

from ..records import LayerRecord, Verdict
from . import (
    init001_init_activation_mismatch,
    init002_unscaled_init,
    init003_constant_init,
    init004_selu_needs_lecun_normal,
    init005_default_init_mismatch,
    init006_fixed_std_scale,
    init007_declared_init_not_applied,
    init008_unstable_signal,
    init009_selu_with_dropout,
    init010_uninitialized_weight,
)

Check = Callable[[LayerRecord], "Verdict | None"]

CHECKS: dict[str, Check] = {
    module.CODE: module.check
    for module in (
        init001_init_activation_mismatch,
        init002_unscaled_init,
        init003_constant_init,
        init004_selu_needs_lecun_normal,
        init005_default_init_mismatch,
        init006_fixed_std_scale,
        init007_declared_init_not_applied,
        init008_unstable_signal,
        init009_selu_with_dropout,
        init010_uninitialized_weight,
    )
}
