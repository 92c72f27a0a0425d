"""Infer the initializer behind a measured weight tensor (INIT_REFERENCE section 7.1).

Used by the ONNX audit and the live-model check. The decision procedure:

1. structure first, on the exact values: constant / zero, identity (``eye_``,
   ``dirac_``, Keras ``Identity``), orthogonal(g) (``W Wᵀ = g² I`` on the short side of
   the tensor flattened as PyTorch does, ``rows = shape[0]``), many exact zeros
   (``sparse_`` or pruning: inconclusive);
2. fewer than 16 entries: inconclusive;
3. the shape class from ``r = max|w| / s`` (uniform ``r -> sqrt(3)``, Keras' ±2σ truncated
   normal ``r <= 2.274``, a normal is unbounded) and the excess kurtosis;
4. every candidate initializer is tested: a uniform by its bound
   ``a_c (1 - eps_n) <= max|w| <= a_c``, ``eps_n = 1 - 0.001**(1/n)``; a normal or
   truncated normal by its variance ``|ln(s² / v_c)| <= 3.29 sqrt((2 + kappa) / n)``
   (99.9 %, kappa = 0 normal, -0.6345 truncated at ±2σ);
5. the accepted candidates and their neighbours (shape permitting) closer than 5 % in
   variance form groups; when more than one group is accepted, or the members of the accepted
   group do not all draw the same verdicts from the rules, the result is ``inconclusive``;
   when none is accepted ``trained`` (the pairing rules skip it). A fan-independent
   round std (N(0, 1), N(0, 0.02²), U(-0.05, 0.05), U(0, 1)) comes out as ``fixed-std``
   so the scale rules still judge it.

Statistics use at most ``sample`` entries, read as contiguous blocks at seeded random
offsets (iid initializers make block sampling as good as entry sampling, and a memory
mapped tensor is touched in a few pages only). With the default 65,536 entries the
variance is known to ±1.8 % (normal) and a uniform bound to ±0.01 % at 99.9 %. No check
reads a tensor whole beyond ``FULL_SCAN`` (4 Mi) entries: a constant sample is confirmed
on the whole tensor up to that size, beyond it on 4 Mi entries in 256 blocks spread
evenly over it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from . import formulas
from .formulas import TRUNCNORM_STD_2, leaky_gain2
from .records import Distribution, Family, InitSpec

# (specs, fan_in, fan_out, family, slope) -> whether these candidate specs may stand as one match
Agreement = Callable[[Sequence[InitSpec], "int | None", "int | None", "Family | None", float], bool]

Z999 = 3.2905  # two-sided 99.9 % normal quantile
KURTOSIS = {"normal": 0.0, "truncated_normal": -0.6345, "uniform": -1.2}
TRUNC_VAR_2 = TRUNCNORM_STD_2**2  # variance factor of a standard normal cut at ±2σ
MIN_ENTRIES = 16
TRAINED_MIN = 256  # fewer entries never make a "trained" or unscaled claim, only "inconclusive"
MERGE = 0.05  # candidates closer than 5 % in variance are one hypothesis
BLOCKS = 128  # contiguous blocks per sample
FULL_SCAN = 1 << 22  # structure checks read the whole tensor up to this many entries
CONSTANT_BLOCKS = 256  # beyond it, a constant sample is confirmed on FULL_SCAN entries in this many blocks
ROUND_STDS = tuple(m * 10.0**e for e in range(-3, 1) for m in (1.0, 2.0, 5.0))
ANY_SHAPE = frozenset({"normal", "truncated_normal", "uniform"})
NORMALS = frozenset({"normal", "truncated_normal"})


@dataclass(frozen=True)
class Candidate:
    """One initializer hypothesis: its variance and the spec to report when it matches."""

    label: str
    var: float
    spec: InitSpec
    shapes: frozenset[str] = ANY_SHAPE
    yields_to: str = ""  # the label of a far likelier candidate that explains the sample whenever it fits too

    def bound(self) -> float:
        """Uniform bound a with a²/3 = var."""
        return math.sqrt(3 * self.var)


@dataclass(frozen=True)
class Stats:
    """Sample statistics of a tensor (float64 over at most ``sample`` entries)."""

    n: int
    mean: float
    var: float  # second moment about zero: the schemes are zero-mean
    std: float  # about the mean
    max_abs: float
    robust_r: float  # max|w - mean|/s ignoring the top 0.01 % (Keras keeps a few out-of-range draws)
    kurtosis: float  # excess
    rel_tol: float  # storage rounding of the dtype


def _spec(scheme: str, dist: str | None, **kw: Any) -> InitSpec:
    return InitSpec(scheme=scheme, source="measured", distribution=dist, **kw)  # type: ignore[arg-type]


def _fan(label: str, torch_only: bool, shapes: frozenset[str] = ANY_SHAPE, **fields: Any) -> tuple[str, InitSpec, frozenset[str], bool]:
    scheme = fields.pop("scheme", "variance-scaling")
    return label, _spec(scheme, fields.pop("distribution", None), **fields), shapes, torch_only


DEFAULT_LABEL = "PyTorch default"
TANH_GAIN2 = formulas.torch_gain2("tanh")[0]  # type: ignore[index]
SELU_GAIN2 = formulas.torch_gain2("selu")[0]  # type: ignore[index]
# Fan-scaled hypotheses in order of preference on ties: (label, spec, shapes, PyTorch only).
FAN_SCALED = (
    _fan("He (fan_in)", False, scheme="he", scale=2.0, mode="fan_in"),
    _fan("He (fan_out)", False, scheme="he", scale=2.0, mode="fan_out"),
    _fan("Glorot", False, scheme="glorot", scale=1.0, mode="fan_avg"),
    _fan("xavier tanh gain", True, scale=TANH_GAIN2, mode="fan_avg", gain_for="tanh", gain_nonlinearity="tanh"),
    _fan("LeCun", False, scheme="lecun", scale=1.0, mode="fan_in"),
    _fan(DEFAULT_LABEL, True, frozenset({"uniform"}), scheme="torch-default", distribution="uniform",
         scale=formulas.TORCH_DEFAULT_SCALE, mode="fan_in"),
    _fan("kaiming tanh gain", True, scale=TANH_GAIN2, mode="fan_in", gain_for="tanh", gain_nonlinearity="tanh"),
    _fan("kaiming selu gain", True, scale=SELU_GAIN2, mode="fan_in", gain_for="selu", gain_nonlinearity="selu"),
    # EfficientNet's classifier (torchvision): uniform_(w, -1/sqrt(out_features), 1/sqrt(out_features))
    _fan("U(±1/sqrt(fan_out))", True, frozenset({"uniform"}), scheme="variance-scaling", distribution="uniform",
         scale=1.0 / 3.0, mode="fan_out"),
)
# GPT-2's scaled residual projections: N(0, (0.02 / sqrt(2 n_layer))²) for the usual depths (PyTorch models only).
SCALED_RESIDUAL = tuple(
    (f"N(0, (0.02/√{2 * depth})²)", _spec("fixed-std", "normal", std=0.02 / math.sqrt(2 * depth)), frozenset({"normal"}))
    for depth in (6, 12, 24, 36)
)
KERAS_ONLY = frozenset({"TruncatedNormal(0.05)"})
# Fan-independent hypotheses: N(0, s²) and U(±s) for round s, Keras' TruncatedNormal(0.05) (std before the cut).
FIXED = tuple(
    item
    for std in ROUND_STDS
    for item in (
        (f"N(0, {std:g}²)", _spec("fixed-std", "normal", std=std), frozenset({"normal"})),
        (f"U(±{std:g})", _spec("fixed-std", "uniform", std=std / math.sqrt(3)), frozenset({"uniform"})),
    )
) + (("TruncatedNormal(0.05)", _spec("fixed-std", "truncated_normal", std=0.05 * TRUNCNORM_STD_2),
      frozenset({"truncated_normal"})),)


def candidates(
    fan_in: int | None, fan_out: int | None, framework: str = "torch", slope: float = 0.0
) -> list[Candidate]:
    """The initializers a tensor is tested against (INIT_REFERENCE 7.1 step 2), each with its variance.

    He 2/fan_in, 2/fan_out, leaky He 2/((1+a²) fan_in), LeCun 1/fan_in, Glorot 2/(fan_in+fan_out),
    PyTorch's default 1/(3 fan_in) (uniform only), tanh gain (25/9)/fan_in and (25/9)*2/(fan_in+fan_out),
    selu gain (9/16)/fan_in, U(±1/sqrt(fan_out)) (the last five not for Keras); fixed stds
    {1, 2, 5}x10^-3..10^0 as normals and as U(±a); Keras' TruncatedNormal(0.05) (not for PyTorch);
    GPT-2's 0.02/sqrt(2L) for L in 6, 12, 24, 36 (PyTorch only). For PyTorch a round U(±a) within 5 %
    of the default's variance is left out, and any other round U(±a) yields to the default when both fit
    (the default explains it; only a small sample leaves both bounds open). Hypotheses whose fans are
    unknown are left out.
    """
    fans = (fan_in or None, fan_out or None)
    table = [(label, spec, shapes) for label, spec, shapes, torch_only in FAN_SCALED
             if not (torch_only and framework == "keras")]
    if slope and fan_in:
        table.append((f"He(a={slope:g})", _spec("variance-scaling", None, scale=leaky_gain2(slope), mode="fan_in",
                                                 gain_for="relu", gain_nonlinearity="leaky_relu"), ANY_SHAPE))
    fixed = [c for c in FIXED if not (framework == "torch" and c[0] in KERAS_ONLY)]
    if framework == "torch":
        fixed += SCALED_RESIDUAL
    out = []
    for label, spec, shapes in [*table, *fixed]:
        var = formulas.variance(spec, *fans)
        if var is not None and var > 0:
            yields = framework == "torch" and spec.scheme == "fixed-std" and spec.distribution == "uniform"
            out.append(Candidate(label, var, spec, shapes, DEFAULT_LABEL if yields else ""))
    # A uniform that PyTorch's default also explains is the default (far likelier): for PyTorch models
    # a round U(±a), for any model U(±1/sqrt(fan_out)) on a near-square layer.
    default = next((c.var for c in out if c.spec.scheme == "torch-default"), None)
    if default:
        out = [c for c in out if not (
            c.spec.distribution == "uniform" and abs(c.var / default - 1) < MERGE
            and (c.label == "U(±1/sqrt(fan_out))" or framework == "torch" and c.spec.scheme == "fixed-std"))]
    return out


# --------------------------------------------------------------------------- sampling


def sample_entries(flat: np.ndarray, sample: int, seed: int) -> np.ndarray:
    """At most ``sample`` entries as float64: all of them, or BLOCKS contiguous blocks.

    One block at a seeded random offset inside each of BLOCKS equal strata, so blocks never overlap.
    """
    n = flat.size
    if n <= sample:
        return np.asarray(flat, dtype=np.float64)
    blocks = min(BLOCKS, sample)
    width = sample // blocks
    stratum = n // blocks
    rng = np.random.default_rng(seed)
    starts = np.arange(blocks) * stratum + rng.integers(0, stratum - width + 1, size=blocks)
    return np.concatenate([np.asarray(flat[s:s + width], dtype=np.float64) for s in starts])


def _rounding(dtype: np.dtype[Any]) -> float:
    """Relative slack a uniform bound needs for the storage dtype's rounding (a few units in the last place)."""
    if dtype == np.float16:
        return 2.0**-10
    if dtype.itemsize == 2:  # bfloat16 through ml_dtypes
        return 2.0**-7
    if dtype == np.float64:
        return 1e-12
    return 2.0**-22


def stats(x: np.ndarray, rel_tol: float) -> Stats:
    n = x.size
    mean = float(x.mean())
    centred = x - mean
    var_c = float(np.mean(centred**2))
    std = math.sqrt(var_c) if var_c > 0 else 0.0
    max_abs = float(np.abs(x).max())
    dev = np.abs(centred)
    k = int(n * 1e-4)
    robust_max = float(np.partition(dev, n - 1 - k)[n - 1 - k]) if k else float(dev.max())
    kurt = float(np.mean(centred**4) / var_c**2 - 3) if var_c > 0 else 0.0
    return Stats(
        n=n, mean=mean, var=float(np.mean(x * x)), std=std, max_abs=max_abs,
        robust_r=robust_max / std if std else 0.0, kurtosis=kurt, rel_tol=rel_tol,
    )


def shape_class(st: Stats) -> frozenset[str]:
    """Which distributions the sample can be (INIT_REFERENCE 7, shape fingerprint r = max|w|/s).

    n < 64: any. Uniform: r <= 2.0 (n < 256), <= 1.95 (n >= 256); a small sample above that may
    still be a uniform's tail, so below 256 entries it stays "any". Truncated at ±2σ: r <= 2.40,
    told apart from a normal only at n >= 1024.
    """
    if st.n < 64:
        return ANY_SHAPE
    if st.robust_r <= (2.0 if st.n < 256 else 1.95):
        return frozenset({"uniform"})
    if st.n < 256:
        return ANY_SHAPE
    if st.n < 1024:
        return NORMALS
    return frozenset({"truncated_normal"}) if st.robust_r <= 2.40 else frozenset({"normal"})


def kurtosis_ok(st: Stats, shapes: frozenset[str]) -> bool:
    """Excess kurtosis within 99.9 % of the shape's (SE sqrt(24/n)); heavy tails mean trained weights.

    Below 256 entries only the heavy tail is tested, with a bound 1.8x wider: the sample kurtosis
    of a normal is skewed to the right there (its 99.95 % quantile is 4.6 at n = 16, 3.3 at n = 64 and
    2.5 at n = 128, all inside the bound), so only tails no initializer draws fail.
    """
    if st.n < MIN_ENTRIES:
        return True
    if st.n < 256:
        return all(st.kurtosis - KURTOSIS[s] <= 1.8 * Z999 * math.sqrt(24 / st.n) + 0.05 for s in shapes)
    slack = Z999 * math.sqrt(24 / st.n) + 0.05
    return any(abs(st.kurtosis - KURTOSIS[s]) <= slack for s in shapes)


KS_999 = 1.9495  # 99.9 % quantile of the Kolmogorov distribution


def _normal_cdf(z: np.ndarray) -> np.ndarray:
    """Φ(z) by Abramowitz & Stegun 7.1.26 (absolute error below 1.5e-7)."""
    t = 1 / (1 + 0.3275911 * np.abs(z) / math.sqrt(2))
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    erf = 1 - poly * np.exp(-z * z / 2)
    return 0.5 * (1 + np.sign(z) * erf)


def shape_cdf(z: np.ndarray, shape: str) -> np.ndarray:
    """CDF of a zero-mean, unit-variance draw of the shape at standardized values z."""
    if shape == "uniform":
        return np.clip((z + math.sqrt(3)) / (2 * math.sqrt(3)), 0.0, 1.0)
    if shape == "truncated_normal":  # cut at ±2σ₀, with σ₀ = 1 / TRUNCNORM_STD_2 for unit variance
        lo, hi = _normal_cdf(np.array([-2.0, 2.0]))
        return np.clip((_normal_cdf(z * TRUNCNORM_STD_2) - lo) / (hi - lo), 0.0, 1.0)
    return _normal_cdf(z)


def shape_fits(x: np.ndarray, st: Stats, shapes: frozenset[str]) -> bool:
    """Kolmogorov-Smirnov at 99.9 %: the standardized sample follows one of the shapes.

    D = sup |F_n - F| <= 1.9495 / sqrt(n) + rel_tol / 4 (the storage rounding moves F by at most
    max(z φ(z)) · rel_tol ≈ rel_tol / 4). The std is estimated from the sample, which only makes
    the test more lenient (Lilliefors). It catches what moments miss: a trained tensor that kept its
    initializer's variance and tails but lost its shape (a uniform whose bulk has spread).
    """
    if st.n < 64 or st.std <= 0:
        return True
    z = np.sort((x - st.mean) / st.std)
    upper = np.arange(1, st.n + 1) / st.n
    limit = KS_999 / math.sqrt(st.n) + st.rel_tol / 4
    for shape in shapes:
        cdf = shape_cdf(z, shape)
        if max(float(np.max(upper - cdf)), float(np.max(cdf - (upper - 1 / st.n)))) <= limit:
            return True
    return False


def log_z(st: Stats, var: float, shape: str) -> float:
    """Standardized log-variance error: ln(s²/v) / sqrt((2 + kappa)/n)."""
    return math.log(st.var / var) / math.sqrt((2 + KURTOSIS[shape]) / st.n)


def uniform_eps(n: int) -> float:
    """Relative slack of a uniform bound recovered from n draws at 99.9 %: 1 - 0.001**(1/n)."""
    return 1 - 0.001 ** (1 / n)


def accepts(c: Candidate, st: Stats, shapes: frozenset[str]) -> tuple[bool, float, str]:
    """(accepted, log-likelihood, distribution) of a candidate given the sample.

    Shape unknown (n < 64, or < 256 and not clearly uniform): the normal variance test, the widest.
    A uniform: the bound test, likelihood n ln(1/a). A normal: the variance test, likelihood -z²/2
    (kappa of a normal while normal and truncated normal cannot be told apart).
    """
    if shapes == ANY_SHAPE:
        z = log_z(st, c.var, "normal")
        if c.shapes == {"uniform"} and st.max_abs > c.bound() * (1 + 1e-6 + 2 * st.rel_tol):
            return False, -math.inf, ""  # a uniform never draws past its bound, whatever the sample size
        return abs(z) <= Z999, -z * z / 2, ""
    usable = shapes & c.shapes
    if not usable:
        return False, -math.inf, ""
    if "uniform" in usable:
        a = c.bound()
        fits = st.max_abs <= a * (1 + 1e-6 + 2 * st.rel_tol)
        ok = fits and st.max_abs >= a * (1 - uniform_eps(st.n) - 2 * st.rel_tol)  # fp16/bf16 rounding
        return ok, (-st.n * math.log(a) if fits else -math.inf), "uniform"
    shape = "truncated_normal" if shapes == {"truncated_normal"} else "normal"
    z = log_z(st, c.var, shape)
    return abs(z) <= Z999, -z * z / 2, shape if len(usable) == 1 else "normal"


# --------------------------------------------------------------------------- structure


def _flattenings(arr: np.ndarray) -> list[np.ndarray]:
    """The tensor as a matrix the ways initializers flatten it: PyTorch rows = shape[0], Keras cols = shape[-1]."""
    if arr.ndim < 2:
        return []
    torch_way = arr.reshape(arr.shape[0], -1)
    return [torch_way] if arr.ndim == 2 else [torch_way, arr.reshape(-1, arr.shape[-1])]


def _constant(arr: np.ndarray, x: np.ndarray) -> InitSpec | None:
    """Every entry equal, once the sample is constant: checked on the whole tensor up to FULL_SCAN
    entries, beyond that on FULL_SCAN entries in CONSTANT_BLOCKS evenly spread blocks (never read whole)."""
    if x.size < 2 or x.min() != x.max():
        return None
    value = float(x[0])
    if not _all_equal(arr, value):
        return None
    spec = _constant_spec(value)
    if arr.size > FULL_SCAN:
        return replace(spec, note=f"every entry read is {value:g} ({FULL_SCAN:,} of {arr.size:,}, in "
                                  f"{CONSTANT_BLOCKS} blocks spread over the tensor)")
    return spec



def _all_equal(arr: np.ndarray, value: float) -> bool:
    flat = arr.ravel(order="K")  # memory order: a view even for a transposed layout, so nothing is copied
    n = flat.size
    if n <= FULL_SCAN:
        step = 1 << 20
        return all(bool(np.all(flat[i:i + step] == value)) for i in range(0, n, step))
    width = FULL_SCAN // CONSTANT_BLOCKS
    starts = np.linspace(0, n - width, CONSTANT_BLOCKS).astype(np.int64)  # the first and the last entries included
    return all(bool(np.all(flat[s:s + width] == value)) for s in starts)


def _constant_spec(value: float) -> InitSpec:
    if value == 0:
        return _spec("zero", "constant", value=0.0, note="every entry is 0")
    return _spec("constant", "constant", value=value, note=f"every entry is {value:g}")


def _identity(arr: np.ndarray) -> InitSpec | None:
    """eye_ / dirac_ / Keras Identity: values in {0, c}, at most one c per row and per input channel."""
    if arr.ndim < 2 or arr.size > FULL_SCAN:
        return None
    nz = np.nonzero(arr)
    if len(nz[0]) == 0:
        return None
    values = arr[nz]
    if not np.all(values == values[0]):
        return None
    rows, ins = nz[0], nz[1]
    if len(np.unique(rows)) != len(rows) or (arr.ndim == 2 and len(np.unique(ins)) != len(ins)):
        return None
    if arr.ndim > 2:  # dirac_: the one entry sits at the kernel centre
        centre = tuple(s // 2 for s in arr.shape[2:])
        if any(tuple(int(c[i]) for c in nz[2:]) != centre for i in range(len(rows))):
            return None
    gain = float(values[0])
    return _spec("identity", "constant", value=gain, note=f"identity ({len(rows)} entries = {gain:g})")


def _orthogonal(arr: np.ndarray, fan_in: int | None, fan_out: int | None, rel_tol: float) -> InitSpec | None:
    """Orthogonal under either framework's flattening (see :func:`_orthogonal_matrix`)."""
    for m in _flattenings(arr):
        found = _orthogonal_matrix(m, fan_in, fan_out, rel_tol)
        if found is not None:
            return found
    return None


def _orthogonal_matrix(m: np.ndarray, fan_in: int | None, fan_out: int | None, rel_tol: float) -> InitSpec | None:
    """(Semi-)orthogonal: the Gram matrix of the short side is g² I (relative tolerance 1e-3).

    Checked on up to 64 rows (or columns) when the short side has at least 8 (a random matrix
    passes by chance only when its long side exceeds ~10^7 entries, so that is bounded too), or
    at least 4 when a random matrix's chance to pass is below 1e-9 (see :func:`_chance_orthogonal`).
    Reported as ``orthogonal`` with the gain in ``value`` (its verdicts are the declared
    orthogonal's) and the exact mean square g²/long as ``scale / fan_in``.
    """
    rows, cols = m.shape
    short, long = min(rows, cols), max(rows, cols)
    tol = max(1e-3, 8 * rel_tol)
    if short < 4 or short < 8 and _chance_orthogonal(short, long, tol) > 1e-9:
        return None
    if long > (1 << 21) or (rows > cols and m.size > FULL_SCAN):
        return None
    k = min(short, 64)
    head = np.asarray(m[:8] if rows <= cols else m[:, :8], dtype=np.float64)
    norms = np.sum(head * head, axis=1 if rows <= cols else 0)
    if norms.min() <= 0 or norms.max() / norms.min() - 1 > tol:  # cheap gate: equal norms first
        return None
    part = np.asarray(m[:k] if rows <= cols else m[:, :k], dtype=np.float64)
    gram = part @ part.T if rows <= cols else part.T @ part
    g2 = float(np.mean(np.diag(gram)))
    if g2 <= 0:
        return None
    if float(np.max(np.abs(gram / g2 - np.eye(k)))) > tol:
        return None
    gain = math.sqrt(g2)
    note = f"orthogonal, gain {gain:.3g} (flattened {rows}x{cols})"
    # Mean square g²/long: name it with the fan that equals the long side so variance() reads simply.
    mode = {fan_out: "fan_out", fan_in: "fan_in"}.get(long)
    if mode is not None:
        return _spec("orthogonal", "orthogonal", scale=g2, mode=mode, value=gain, note=note)
    if fan_in:
        return _spec("orthogonal", "orthogonal", scale=g2 * fan_in / long, mode="fan_in", value=gain, note=note)
    return None


def _chance_orthogonal(k: int, long: int, tol: float) -> float:
    """Chance that k random rows of length ``long`` have a Gram matrix within ``tol`` of g² I off the diagonal.

    Each normalized off-diagonal entry is ~N(0, 1/long): P(|z| <= tol) = erf(tol sqrt(long / 2)),
    for k(k-1)/2 independent entries (the equal-norm condition only lowers it further).
    """
    return math.erf(tol * math.sqrt(long / 2)) ** (k * (k - 1) // 2)


# --------------------------------------------------------------------------- the inference


def _inconclusive(note: str, st: Stats | None = None) -> InitSpec:
    return _spec("inconclusive", None, note=note, measured_std=st.std if st else None, confidence=0.0)


def _groups(cands: list[Candidate], among: Sequence[int]) -> list[list[int]]:
    """The indices ``among`` chained by variance ratio below 1 + MERGE."""
    order = sorted(among, key=lambda i: cands[i].var)
    groups: list[list[int]] = []
    for i in order:
        if groups and cands[i].var / cands[groups[-1][-1]].var < 1 + MERGE:
            groups[-1].append(i)
        else:
            groups.append([i])
    return groups


def _offset(st: Stats, shapes: frozenset[str], x: np.ndarray) -> InitSpec:
    """A non-zero mean (no fan-scaled scheme has one): U(a, b) with round ends (U(0, 1)), else trained."""
    lo, hi = float(x.min()), float(x.max())
    if shapes == {"uniform"} and all(_round(v, hi - lo) for v in (lo, hi)):
        return _spec("fixed-std", "uniform", std=st.std, mean=st.mean, measured_std=st.std,
                     confidence=0.999, note=f"U({lo:.2g}, {hi:.2g})")
    return _spec("trained", None, measured_std=st.std, confidence=0.999,
                 note=f"mean {st.mean:.3g} is not zero and fits no initializer")


def _round(v: float, width: float) -> bool:
    """v is a multiple of 0.05 to within 1 % of the range."""
    return abs(v - round(v * 20) / 20) <= 0.01 * width


def infer(
    values: Any,
    fan_in: int | None,
    fan_out: int | None,
    *,
    framework: str = "torch",
    slope: float = 0.0,
    sample: int = 65536,
    seed: int = 0,
    family: Family | None = None,
    agree: Agreement | None = None,
) -> InitSpec:
    """The measured :class:`InitSpec` of a weight tensor with PyTorch-convention fans.

    ``framework`` selects the candidate set ("torch", "keras", or "onnx" for both); ``slope``
    adds the leaky He candidate. When several candidates of one variance group match,
    ``agree(specs, fan_in, fan_out, family, slope)`` decides whether the match may stand
    (the engine's :func:`initlint.engine.same_verdicts`: every candidate draws the same
    verdicts for ``family``, or for all families when it is None); without it the tensor
    is inconclusive. At most ``sample`` entries are read (see the module docstring for the error).
    """
    arr = values if getattr(values, "lazy", False) else np.asarray(values)  # external data: read in pieces
    if arr.size == 0:
        return _inconclusive("empty tensor")
    if arr.dtype.kind != "f" and arr.dtype.name != "bfloat16":
        return _inconclusive(f"{arr.dtype} tensor (quantized?)")
    rel_tol = _rounding(arr.dtype)
    with np.errstate(invalid="ignore", over="ignore"):  # garbage values are caught just below
        x = sample_entries(arr.ravel(order="K"), sample, seed)  # memory order: a view even for a transposed layout
    if not np.all(np.isfinite(x)):
        return _inconclusive("non-finite entries")
    found = _constant(arr, x)
    if found is None and x.size >= 2 and np.mean(x == 0) >= 0.5:
        found = _identity(arr)
    if found is None and x.size >= 2:
        found = _orthogonal(arr, fan_in, fan_out, rel_tol)
    if found is not None:
        return replace(found, confidence=1.0, measured_std=float(x.std()))
    if x.size < MIN_ENTRIES:
        return _inconclusive(f"only {x.size} entries", None)
    st = stats(x, rel_tol)
    zeros = float(np.mean(x == 0))
    if zeros > 0.01:
        return _inconclusive(f"{zeros:.0%} of the entries are exactly 0 (sparse_ or pruned)", st)
    shapes = shape_class(st)
    if st.n < TRAINED_MIN and abs(st.mean) > Z999 * st.std / math.sqrt(st.n):
        return _inconclusive(f"mean {st.mean:.3g} is not zero, too few entries ({st.n}) to say more", st)
    if abs(st.mean) > Z999 * st.std / math.sqrt(st.n) and abs(st.mean) > 0.05 * st.std:
        return _offset(st, shapes, x)
    if not kurtosis_ok(st, shapes):
        if st.n < TRAINED_MIN:
            return _inconclusive(f"excess kurtosis {st.kurtosis:.2g} is heavier-tailed than any initializer's; "
                                 f"too few entries ({st.n}) to say more", st)
        return _spec("trained", None, measured_std=st.std, confidence=0.999,
                     note=f"excess kurtosis {st.kurtosis:.2g} fits no initializer's distribution")
    if not shape_fits(x, st, shapes):
        why = f"the distribution of the entries is none of {'/'.join(sorted(shapes))} (Kolmogorov-Smirnov, 99.9 %)"
        if st.n < TRAINED_MIN:
            return _inconclusive(f"{why}; too few entries ({st.n}) to say more", st)
        return _spec("trained", None, measured_std=st.std, confidence=0.999, note=why)
    return _match(st, shapes, candidates(fan_in, fan_out, framework, slope), fan_in, fan_out, family, slope, agree)


def _match(
    st: Stats, shapes: frozenset[str], cands: list[Candidate], fan_in: int | None, fan_out: int | None,
    family: Family | None, slope: float, agree: Agreement | None,
) -> InitSpec:
    tests = [accepts(c, st, shapes) for c in cands]
    fitting = {c.label for c, t in zip(cands, tests) if t[0]}
    tests = [(False, -math.inf, "") if c.yields_to in fitting else t for c, t in zip(cands, tests)]
    hits = [i for i, t in enumerate(tests) if t[0]]
    # The accepted candidates and their neighbours within MERGE (a rejected one that the sample could
    # still be, shape permitting): a chain through a neighbour's neighbour does not join two hypotheses.
    near = [i for i, c in enumerate(cands) if tests[i][0] or tests[i][1] > -math.inf
            and any(max(c.var, cands[j].var) / min(c.var, cands[j].var) < 1 + MERGE for j in hits)]
    accepted = _groups(cands, near)
    dist = _distribution(shapes, st)
    if not accepted:
        return _unmatched(st, shapes, dist, fan_in, fan_out)
    members = [i for g in accepted for i in g if tests[i][1] > -math.inf]
    logliks = np.array([t[1] for t in tests])
    finite = logliks[np.isfinite(logliks)]
    weights = np.exp(logliks - finite.max()) if finite.size else np.zeros(len(cands))
    posterior = weights / weights.sum()
    specs = [cands[i].spec for i in members]
    ranked = sorted(members, key=lambda i: (-round(tests[i][1], 6), i))  # ties: candidate order
    labels = list(dict.fromkeys(cands[i].label for i in ranked))
    if len(accepted) > 1 or len(members) > 1 and not (agree and agree(specs, fan_in, fan_out, family, slope)):
        return _inconclusive(f"cannot tell {' or '.join(labels)} apart with {st.n} entries", st)
    best = ranked[0]
    spec = cands[best].spec
    note = f"matches {cands[best].label}"
    if len(labels) > 1:
        note += f" (also consistent with {', '.join(other for other in labels if other != cands[best].label)})"
    return replace(
        spec,
        distribution=spec.distribution or (tests[best][2] or dist),  # type: ignore[arg-type]
        confidence=round(float(sum(posterior[i] for i in members)), 4),
        measured_std=st.std,
        note=note,
    )


def _distribution(shapes: frozenset[str], st: Stats) -> Distribution | None:
    if len(shapes) == 1:
        return next(iter(shapes))  # type: ignore[return-value]
    return "normal" if st.n >= 64 else None


def _unmatched(
    st: Stats, shapes: frozenset[str], dist: Distribution | None, fan_in: int | None, fan_out: int | None
) -> InitSpec:
    """No candidate fits: trained, unless the clean draw is far too large for any activation (unscaled)."""
    if st.n < TRAINED_MIN:
        return _inconclusive(f"fits no initializer, too few entries ({st.n}) to say more", st)
    fans = [f for f in (fan_in, fan_out) if f]
    loosest = formulas.loosest_requirement(*fans) if fans else None
    clean = kurtosis_ok(st, shapes)
    if clean and loosest is not None and st.var >= 10 * loosest:
        return _spec("fixed-std", dist, std=st.std, measured_std=st.std, confidence=0.999,
                     note=f"std {st.std:.3g} is unscaled: variance {st.var / loosest:.3g}x He's on the smaller fan")
    scale = f" (variance = {st.var * fan_in:.3g}/fan_in)" if fan_in else ""
    return _spec("trained", dist, measured_std=st.std, confidence=0.999, note=f"fits no initializer{scale}")


TRAINED_SHARE = 0.5  # a file or model whose measurable layers are mostly trained is treated as trained


def trained_majority(specs: Sequence[InitSpec | None]) -> str:
    """SPEC 8.37: why a whole file or model counts as trained ("" when it does not).

    Measurable: conclusive measured tensors (not inconclusive; constant, zero and identity tensors
    are structure, not statistics). Trained when more than half of them fit no initializer.
    """
    measurable = [s for s in specs if s is not None and s.scheme not in ("inconclusive", "zero", "constant",
                                                                        "identity")]
    trained = [s for s in measurable if s.scheme == "trained"]
    if measurable and len(trained) > TRAINED_SHARE * len(measurable):
        return f"{len(trained)} of its {len(measurable)} measurable layers fit no initializer"
    return ""


def as_trained(spec: InitSpec | None, why: str) -> InitSpec | None:
    """A tensor of a trained file: its match to an initializer is a coincidence of scale (SPEC 8.37)."""
    if spec is None or spec.scheme == "trained":
        return spec
    return replace(spec, scheme="trained", confidence=None,
                   note=f"the file is trained ({why}); alone it {spec.note or 'looks like ' + spec.scheme}")
