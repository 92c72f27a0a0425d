"""initlint benchmarks: static throughput, the project model, pre-commit start-up, ONNX audits, live checks, scaling.

    python benchmarks/run.py            # full run (downloads the pinned corpus on first use)
    python benchmarks/run.py --quick    # smoke run: small inputs, one repetition
    python benchmarks/run.py --corpus DIR --only static,scaling --out results.json

Every measurement runs in a fresh child process (``run.py --child NAME``) so imports,
caches and peak RSS of one section never leak into another. Times are wall-clock
(``time.perf_counter``) and CPU (user + system from ``os.wait4`` / ``getrusage``); ratios
between tools use CPU time, which other load on the machine disturbs least. Prints a
table and writes JSON to ``benchmarks/results/<UTC time>.json`` (or ``--out``).

Corpus: the ``.py`` files of pinned wheels fetched with ``pip download --no-deps`` and
unpacked with ``python -m zipfile -e`` into ``benchmarks/.corpus/``. The peer tool
TorchFix is installed into ``benchmarks/.venv-torchfix`` (it pins its own libcst).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CORPUS_DIR = HERE / ".corpus"
RESULTS_DIR = HERE / "results"
TORCHFIX_VENV = HERE / ".venv-torchfix"
PINNED = ("timm==1.0.31", "torchvision==0.28.0", "keras==3.15.1")
TORCHFIX = "torchfix==0.7.0"

Json = dict[str, Any]


# -- process helpers -----------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    """One child process: wall and CPU seconds, peak RSS, exit code, output."""

    wall: float
    cpu: float
    rss_mib: float
    code: int
    stdout: str


def bench_env() -> dict[str, str]:
    """The environment for measured processes: bytecode caching on, as on a developer's machine."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    return env


def run(cmd: Sequence[str], env: dict[str, str] | None = None, cwd: Path | None = None) -> Run:
    """Run ``cmd`` to completion; its own rusage (CPU, peak RSS) comes from ``os.wait4``."""
    start = time.perf_counter()
    proc = subprocess.Popen(list(cmd), env=env or bench_env(), cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return Run(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, proc.returncode, out)


def child(name: str, *args: str, timeout_note: str = "") -> Json:
    """Run one measurement section in a fresh interpreter and return its JSON."""
    result = run([sys.executable, str(Path(__file__).resolve()), "--child", name, *args])
    lines = result.stdout.strip().splitlines()
    if result.code != 0 or not lines:
        return {"skipped": f"child {name} failed with exit code {result.code}{timeout_note}"}
    doc: Json = json.loads(lines[-1])
    doc.setdefault("peak_rss_mib", round(result.rss_mib, 1))
    return doc


def cpu_now() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def timed(fn: Callable[[], Any]) -> tuple[float, float]:
    """(wall, cpu) seconds of one call."""
    w, c = time.perf_counter(), cpu_now()
    fn()
    return time.perf_counter() - w, cpu_now() - c


def best(samples: Sequence[tuple[float, float]]) -> Json:
    """The fastest repetition (least disturbed by other load) and the median."""
    walls = [s[0] for s in samples]
    cpus = [s[1] for s in samples]
    return {"wall_s": round(min(walls), 4), "cpu_s": round(min(cpus), 4),
            "median_wall_s": round(statistics.median(walls), 4), "median_cpu_s": round(statistics.median(cpus), 4),
            "reps": len(samples)}


# -- the corpus ----------------------------------------------------------------------


def ensure_corpus(folder: Path) -> Path:
    """Download and unpack the pinned wheels once; the folder is reused afterwards."""
    done = folder / ".complete"
    if done.exists():
        return folder
    wheels = folder / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    print(f"fetching corpus {' '.join(PINNED)} into {folder}", file=sys.stderr)
    for spec in PINNED:
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(wheels), spec], check=True)
    for wheel in sorted(wheels.glob("*.whl")):
        target = folder / wheel.name.split("-")[0]
        if not target.exists():
            subprocess.run([sys.executable, "-m", "zipfile", "-e", str(wheel), str(target)], check=True)
    done.write_text("\n".join(PINNED) + "\n")
    return folder


def corpus_paths(folder: Path) -> list[Path]:
    """The unpacked packages (not the wheels) of a corpus folder, or the folder itself."""
    parts = [p for p in sorted(folder.iterdir()) if p.is_dir() and p.name != "wheels" and not p.name.startswith(".")]
    return parts or [folder]


def ensure_torchfix() -> Path | None:
    """TorchFix in its own virtual environment; None (and a message) when it cannot be installed."""
    exe = TORCHFIX_VENV / "bin" / "torchfix"
    if exe.exists():
        return exe
    try:
        subprocess.run([sys.executable, "-m", "venv", str(TORCHFIX_VENV)], check=True, capture_output=True)
        subprocess.run([str(TORCHFIX_VENV / "bin" / "pip"), "install", "-q", TORCHFIX], check=True, capture_output=True,
                       timeout=600)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as err:
        print(f"TorchFix could not be installed: {err}", file=sys.stderr)
        return None
    return exe if exe.exists() else None


# -- generated sources ---------------------------------------------------------------

BLOCK = '''

class Block{i}(nn.Module):
    """A residual MLP block with its own init loop."""

    def __init__(self, width: int = {w}):
        super().__init__()
        self.fc1 = nn.Linear(width, width * 2)
        self.fc2 = nn.Linear(width * 2, width)
        self.gate = nn.Linear(width, width)
        self.norm = nn.LayerNorm(width)
        self.drop = nn.Dropout(0.1)
        nn.init.xavier_uniform_(self.fc1.weight)
        nn.init.zeros_(self.fc1.bias)
        self.gate.weight.data.normal_(0.0, 0.02)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x):
        h = F.relu(self.fc1(self.norm(x)))
        h = self.drop(self.fc2(h))
        return x + h * torch.sigmoid(self.gate(x))
'''

HEADER = '''"""A generated model file: residual MLP blocks and the network that stacks them."""

import torch
import torch.nn as nn
import torch.nn.functional as F
'''


def model_source(lines: int) -> str:
    """A model file of about ``lines`` lines: residual blocks, then one network using all of them."""
    block_lines = BLOCK.count("\n")
    count = max(1, (lines - 20) // (block_lines + 1))
    blocks = "".join(BLOCK.format(i=i, w=64 + i % 7 * 32) for i in range(count))
    net = (
        "\n\nclass Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.blocks = nn.Sequential(\n"
        + "".join(f"            Block{i}(),\n" for i in range(count))
        + "        )\n        self.head = nn.Linear(64, 10)\n\n    def forward(self, x):\n        return self.head(self.blocks(x))\n"
    )
    return HEADER + blocks + net


SMALL_MODEL = HEADER + BLOCK.format(i=0, w=256) + '''

class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = Block0()
        self.head = nn.Linear(256, 10)

    def forward(self, x):
        return self.head(self.body(x))
'''


# -- child sections (run in fresh interpreters) ----------------------------------------


def child_static(roots: Sequence[str], reps: int) -> Json:
    """In one process, on the same files: ast.parse, libcst.parse_module, and initlint single-process."""
    import ast

    import libcst

    from initlint.api import iter_files, lint_paths
    from initlint.frontends.python.names import mentions_framework
    from initlint.settings import Settings

    settings = Settings()
    files = [p for p in iter_files(list(roots), settings) if p.endswith(".py")]
    texts = []
    for path in files:
        with open(path, encoding="utf-8", errors="replace") as fh:
            texts.append(fh.read())
    framework = [t for t in texts if mentions_framework(t)]

    def parse_all(parse: Callable[[str], Any], sources: Sequence[str]) -> Callable[[], None]:
        def go() -> None:
            for text in sources:
                try:
                    parse(text)
                except Exception:  # noqa: BLE001 - a file one parser rejects still costs its time
                    pass
        return go

    parse_all(libcst.parse_module, texts[:20])()  # warm libcst's lazily built tables
    lint_paths(files[:20], settings)
    out: Json = {
        "files": len(files),
        "lines": sum(t.count("\n") + 1 for t in texts),
        "bytes": sum(len(t.encode()) for t in texts),
        "framework_files": len(framework),
    }
    out["ast_parse"] = best([timed(parse_all(ast.parse, texts)) for _ in range(reps)])
    out["libcst_parse"] = best([timed(parse_all(libcst.parse_module, texts)) for _ in range(reps)])
    out["libcst_parse_framework_files"] = best([timed(parse_all(libcst.parse_module, framework)) for _ in range(reps)])
    reports = []
    out["initlint"] = best([timed(lambda: reports.append(lint_paths(list(roots), settings, jobs=1))) for _ in range(reps)])
    report = reports[-1]
    out["findings"] = len(report.findings)
    out["layers"] = report.summary().layers
    out["errors"] = len(report.errors)
    out["positions_ast_share"] = _positions_share(files[: min(len(files), 300)], settings)
    return out


def _positions_share(files: Sequence[str], settings: Any) -> Json:
    """CPU share of the lazy ``ast.parse`` the positions module runs (per file with records to locate)."""
    import cProfile
    import pstats

    from initlint.api import lint_paths

    profile = cProfile.Profile()
    profile.enable()
    lint_paths(list(files), settings, jobs=1)
    profile.disable()
    stats = pstats.Stats(profile)
    total = max(stats.total_tt, 1e-9)  # type: ignore[attr-defined]
    shares: Json = {}
    for (filename, _, func), row in stats.stats.items():  # type: ignore[attr-defined]
        if filename.endswith("frontends/python/positions.py") and func == "_aligned":
            shares["positions_aligned"] = round(row[3] / total, 4)
        if filename.endswith("entrypoints.py") and func == "_parse":
            shares["libcst_parse"] = round(row[3] / total, 4)
    return shares


def child_scaling(lines: Sequence[int], reps: int) -> Json:
    """lint_source and libcst.parse_module on generated files of growing length."""
    import libcst

    from initlint.api import lint_paths
    from initlint.settings import Settings

    settings = Settings(timeout=0)  # a loaded machine must not turn the large file into a time-out
    out: Json = {"sizes": []}
    with tempfile.TemporaryDirectory(prefix="initlint-scaling-") as tmp:
        warm = Path(tmp) / "warm.py"
        warm.write_text(model_source(200))
        lint_paths([str(warm)], settings)
        for n in lines:
            text = model_source(n)
            path = Path(tmp) / f"gen{n}.py"
            path.write_text(text)
            parse = best([timed(lambda: libcst.parse_module(text)) for _ in range(reps)])
            reports = []
            lint = best([timed(lambda: reports.append(lint_paths([str(path)], settings, jobs=1))) for _ in range(reps)])
            result = reports[-1].results[0]
            out["sizes"].append({"lines": text.count("\n") + 1, "libcst_parse": parse, "initlint": lint,
                                 "layers": sum(r.count for r in result.records), "findings": len(result.findings),
                                 "error": result.error})
    return out


def child_live(quick: bool) -> Json:
    """A ResNet-50-sized model: construction + one forward/backward, beside ``initlint.check_model``."""
    try:
        from initlint.frontends.live import torch_models  # noqa: F401
    except ImportError as err:
        return {"skipped": f"live torch frontend not available: {err}"}
    import torch
    from torch import nn

    from initlint import check_model

    torch.set_num_threads(os.cpu_count() or 1)
    shape: tuple[int, ...] = (8, 32) if quick else (8, 3, 224, 224)
    build = (lambda: nn.Sequential(nn.Linear(32, 64), nn.ReLU(), nn.Linear(64, 10))) if quick else resnet50
    built: list[Any] = []
    construct = timed(lambda: built.append(build()))
    model = built[0]
    forward_backward = timed(lambda: model(torch.randn(shape)).float().square().mean().backward())
    fresh = build()
    results: list[Any] = []
    check = timed(lambda: results.append(check_model(fresh, shape)))
    result = results[0]
    return {
        "model": "mlp" if quick else "resnet50",
        "params": sum(p.numel() for p in model.parameters()),
        "input_shape": list(shape),
        "torch_threads": torch.get_num_threads(),
        "construct_s": round(construct[0], 3),
        "forward_backward_s": round(forward_backward[0], 3),
        "check_model_s": round(check[0], 3),
        "construct_cpu_s": round(construct[1], 3),
        "forward_backward_cpu_s": round(forward_backward[1], 3),
        "check_model_cpu_s": round(check[1], 3),
        "layers": len([r for r in result.records if r.kind != "network"]),
        "findings": len(result.findings),
    }


def resnet50() -> Any:
    """ResNet-50 (bottleneck 3-4-6-3, 25.6 M parameters) with PyTorch's default init, built here."""
    from torch import nn

    class Bottleneck(nn.Module):
        def __init__(self, cin: int, mid: int, stride: int) -> None:
            super().__init__()
            cout = mid * 4
            self.body = nn.Sequential(
                nn.Conv2d(cin, mid, 1, bias=False), nn.BatchNorm2d(mid), nn.ReLU(inplace=True),
                nn.Conv2d(mid, mid, 3, stride, 1, bias=False), nn.BatchNorm2d(mid), nn.ReLU(inplace=True),
                nn.Conv2d(mid, cout, 1, bias=False), nn.BatchNorm2d(cout),
            )
            self.skip = (nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
                         if stride != 1 or cin != cout else nn.Identity())
            self.relu = nn.ReLU(inplace=True)

        def forward(self, x: Any) -> Any:
            return self.relu(self.body(x) + self.skip(x))

    layers: list[nn.Module] = [nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(inplace=True),
                               nn.MaxPool2d(3, 2, 1)]
    cin = 64
    for mid, blocks, stride in ((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)):
        for b in range(blocks):
            layers.append(Bottleneck(cin, mid, stride if b == 0 else 1))
            cin = mid * 4
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(2048, 1000)]
    return nn.Sequential(*layers)


CHILDREN: dict[str, Callable[[list[str]], Json]] = {
    "static": lambda a: child_static(a[1:], int(a[0])),
    "scaling": lambda a: child_scaling([int(x) for x in a[1:]], int(a[0])),
    "live": lambda a: child_live(a[0] == "quick"),
    "parse": lambda a: child_parse(a),
}


# -- sections (parent side) ------------------------------------------------------------


def _entries(cache: Path) -> set[Path]:
    return {p for p in cache.rglob("*") if p.is_file() and not p.name.startswith(".")}


def section_static(roots: list[str], reps: int, quick: bool, skip_peer: bool = False) -> Json:
    """Throughput on the corpus: in-process loops, then the CLI with 1 and 2 jobs, cache cold and warm, TorchFix."""
    doc = child("static", str(reps), *roots)
    if "skipped" in doc:
        return doc
    cli = [sys.executable, "-m", "initlint", *roots]
    with tempfile.TemporaryDirectory(prefix="initlint-cache-") as cache:
        env = {**bench_env(), "INITLINT_CACHE_DIR": cache}
        # Cold then warm first and back to back: the cache key includes the package's files,
        # so an edit of initlint between the two runs would (rightly) make every entry a miss.
        cold = run([*cli, "--jobs", "1"], env)
        entries = _entries(Path(cache))
        warm = [run([*cli, "--jobs", "1"], env) for _ in range(reps)]
        new_entries = _entries(Path(cache)) - entries
        runs: dict[str, list[Run]] = {"jobs1": [], "jobs2": []}
        for _ in range(reps):
            runs["jobs1"].append(run([*cli, "--no-cache", "--jobs", "1"], env))
            runs["jobs2"].append(run([*cli, "--no-cache", "--jobs", "2"], env))
        doc["formats"] = section_formats(cli, env, reps)
    doc["cli"] = {name: _runs(rs) for name, rs in runs.items()}
    doc["cli"]["cache_cold"] = _runs([cold])
    doc["cli"]["cache_warm"] = _runs(warm)
    doc["cache_entries"] = {"after_cold": len(entries), "written_by_warm_runs": len(new_entries)}
    doc["exit_codes"] = sorted({r.code for rs in runs.values() for r in rs})
    if not quick and not skip_peer:
        exe = ensure_torchfix()
        if exe is None:
            doc["torchfix"] = {"skipped": f"{TORCHFIX} could not be installed in {TORCHFIX_VENV}"}
        else:
            tf_env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
            doc["torchfix"] = {
                "jobs1": _runs([run([str(exe), "-j", "1", *roots], tf_env) for _ in range(reps)]),
                "jobs2": _runs([run([str(exe), "-j", "2", *roots], tf_env) for _ in range(reps)]),
            }
    return doc


def section_formats(cli: Sequence[str], env: dict[str, str], reps: int) -> Json:
    """The CI formats beside text: the same corpus with --format text/json/sarif, one process, no cache.

    Runs are interleaved (text, json, sarif, text, ...) so that load from other processes hits each
    format alike; the ratios compare the least-disturbed (minimum) CPU times.
    """
    samples: dict[str, list[Run]] = {"text": [], "json": [], "sarif": []}
    for _ in range(max(reps, 3)):
        for fmt, runs in samples.items():
            runs.append(run([*cli, "--no-cache", "--jobs", "1", "--exit-zero", "--format", fmt], env))
    out: Json = {fmt: _runs(rs) for fmt, rs in samples.items()}
    for fmt in ("json", "sarif"):
        out[f"{fmt}_over_text_cpu"] = round(out[fmt]["cpu_s"] / out["text"]["cpu_s"], 3)
    return out


def _runs(rs: Sequence[Run]) -> Json:
    return {"wall_s": round(min(r.wall for r in rs), 3), "cpu_s": round(min(r.cpu for r in rs), 3),
            "median_wall_s": round(statistics.median(r.wall for r in rs), 3),
            "peak_rss_mib": round(max(r.rss_mib for r in rs), 1), "reps": len(rs)}


def section_precommit(reps: int) -> Json:
    """A cold process on one small model file, beside ``python -c "import libcst"`` (medians, interleaved)."""
    script = Path(sys.executable).with_name("initlint")
    with tempfile.TemporaryDirectory(prefix="initlint-precommit-") as tmp:
        model = Path(tmp) / "model.py"
        model.write_text(SMALL_MODEL)
        env = {**bench_env(), "INITLINT_CACHE_DIR": str(Path(tmp) / "cache")}
        commands = {
            "import_libcst": [sys.executable, "-c", "import libcst"],
            "python_m_initlint": [sys.executable, "-m", "initlint", str(model), "--no-cache"],
            "python_m_initlint_cached": [sys.executable, "-m", "initlint", str(model)],
        }
        if script.exists():
            commands["initlint_script"] = [str(script), str(model), "--no-cache"]
        for cmd in commands.values():
            run(cmd, env)  # write bytecode, warm the page cache
        samples: dict[str, list[Run]] = {name: [] for name in commands}
        for _ in range(reps):
            for name, cmd in commands.items():
                samples[name].append(run(cmd, env))
    out: Json = {"lines": SMALL_MODEL.count("\n") + 1}
    for name, rs in samples.items():
        out[name] = {"median_wall_s": round(statistics.median(r.wall for r in rs), 4),
                     "min_wall_s": round(min(r.wall for r in rs), 4),
                     "median_cpu_s": round(statistics.median(r.cpu for r in rs), 4),
                     "exit_code": rs[-1].code}
    return out


def child_parse(paths: Sequence[str]) -> Json:
    """Bare ``libcst.parse_module`` of every ``.py`` file under a folder (best of the repetitions)."""
    import libcst

    root, reps = paths[0], int(paths[1])
    files = sorted(Path(root).rglob("*.py"))
    texts = [f.read_text(encoding="utf-8", errors="replace") for f in files]

    def go() -> None:
        for text in texts:
            try:
                libcst.parse_module(text)
            except Exception:  # noqa: BLE001 - a file the parser rejects still costs its time
                pass

    return {"files": len(files), "bytes": sum(len(t.encode()) for t in texts), "libcst_parse": best([timed(go) for _ in range(reps)])}


def _changed_file(folder: Path) -> Path:
    """The file a pre-commit run would see changed: timm's ResNet if present, else the largest model file."""
    preferred = folder / "models" / "resnet.py"
    if preferred.is_file():
        return preferred
    models = [p for p in folder.rglob("*.py") if "nn.Module" in p.read_text(encoding="utf-8", errors="replace")]
    return max(models or list(folder.rglob("*.py")), key=lambda p: p.stat().st_size)


def section_project(roots: list[str], reps: int, project: Path | None = None) -> Json:
    """SPEC 8.32's project model, the two figures of its speed contract.

    1. A whole-project run (``--format text`` and ``json``, no cache, one process) beside a bare
       ``libcst.parse_module`` loop over the same files: CPU time, runs interleaved (parse, text,
       json, parse, ...) so that other load hits all three alike; ratios of the minima.
    2. A run on one changed file with a warm cache (the project's other files and the index read
       from it) beside the same run without a cache (``--no-cache``: the whole index built) and the
       file judged alone (``--no-project``, warm): medians of wall time, interleaved.

    ``project``: the package folder to measure (default: the corpus's timm, else its first package).
    """
    root = str(project) if project is not None else next((r for r in roots if Path(r).name == "timm"), roots[0])
    out: Json = {"root": os.path.basename(root), "root_path": root}
    parses: list[tuple[float, float]] = []
    with tempfile.TemporaryDirectory(prefix="initlint-project-") as tmp:
        env = {**bench_env(), "INITLINT_CACHE_DIR": str(Path(tmp) / "cache")}
        whole: dict[str, list[Run]] = {"text": [], "json": []}
        for _ in range(reps):
            parsed = child("parse", root, "1")
            if "libcst_parse" not in parsed:
                return {"skipped": parsed.get("skipped", "parse failed")}
            out.update(files=parsed["files"], bytes=parsed["bytes"])
            parses.append((parsed["libcst_parse"]["wall_s"], parsed["libcst_parse"]["cpu_s"]))
            for fmt, rs in whole.items():
                rs.append(run([sys.executable, "-m", "initlint", root, "--no-cache", "-j", "1", "--format", fmt], env))
        out["libcst_parse"] = best(parses)
        for fmt, rs in whole.items():
            out[f"whole_{fmt}"] = _runs(rs)
            out[f"whole_{fmt}_over_parse_cpu"] = round(out[f"whole_{fmt}"]["cpu_s"] / out["libcst_parse"]["cpu_s"], 3)
        out["whole_outputs_equal_across_reps"] = all(len({r.stdout for r in rs}) == 1 for rs in whole.values())
        copy = Path(tmp) / "project" / os.path.basename(root)
        shutil.copytree(root, copy)
        (copy.parent / "pyproject.toml").write_text("[project]\nname = 'bench'\nversion = '0'\n")  # the project root
        fill = run([sys.executable, "-m", "initlint", str(copy), "-j", "1"], env)
        changed = _changed_file(copy)
        out["changed_file"] = str(changed.relative_to(copy.parent))
        variants = {"one_file_project_warm": [], "one_file_project_cold": ["--no-cache"],
                    "one_file_alone_warm": ["--no-project"]}
        samples: dict[str, list[Run]] = {name: [] for name in variants}
        for i in range(max(reps, 3)):
            for name, extra in variants.items():
                with open(changed, "a") as fh:
                    fh.write(f"\n# edited {name} {i}\n")  # a change: this file's entry misses, the rest hit
                samples[name].append(run([sys.executable, "-m", "initlint", str(changed), "-j", "1", *extra], env))
        out["cache_fill"] = _runs([fill])
        for name, rs in samples.items():
            out[name] = {"median_wall_s": round(statistics.median(r.wall for r in rs), 4),
                         "min_wall_s": round(min(r.wall for r in rs), 4),
                         "median_cpu_s": round(statistics.median(r.cpu for r in rs), 4),
                         "exit_code": rs[-1].code}
    return out


def section_onnx(quick: bool) -> Json:
    """Audit time and peak RSS beside ``onnx.load``: models of many small layers, and one >= 1 GiB external-data model."""
    try:
        import initlint.frontends.onnx.graph  # noqa: F401
    except ImportError as err:
        return {"skipped": f"ONNX frontend not available: {err}"}
    sys.path.insert(0, str(HERE))
    import onnx_large

    out: Json = {"layers": []}
    with tempfile.TemporaryDirectory(prefix="initlint-onnx-") as tmp:
        for n in (5, 10, 20) if quick else (250, 500, 1000):
            path = Path(tmp) / f"mlp{n}.onnx"
            _layers_model(path, n)
            row: Json = {"layers": n, "file_mib": round(path.stat().st_size / 2**20, 1)}
            for what in ("initlint", "onnx.load"):
                row[what] = _measure_onnx(onnx_large, what, path)
            out["layers"].append(row)
        if quick:
            out["large"] = {"skipped": "not in --quick"}
            return out
        start = time.perf_counter()
        path = onnx_large.generate(Path(tmp), 1.0)
        weight_bytes = (Path(tmp) / "weights.bin").stat().st_size
        out["large"] = {"weight_gib": round(weight_bytes / 2**30, 3), "generate_s": round(time.perf_counter() - start, 1)}
        for what in ("onnx.load", "initlint", "onnx.load", "initlint"):  # twice each, interleaved: page cache warm for both
            result = _measure_onnx(onnx_large, what, path)
            previous = out["large"].get(what)
            if previous is None or result["run_s"] < previous["run_s"]:
                out["large"][what] = result
    return out


def _measure_onnx(onnx_large: Any, what: str, path: Path) -> Json:
    """``onnx_large``'s measurement, with the peak RSS taken by ``/usr/bin/time`` when it exists.

    Linux carries a parent's memory high-water mark into a forked child's ``ru_maxrss``
    across ``exec``; this process holds generated models, so the child's own figure would
    be at least this process's size. ``time`` is small, and the measured process is its child.
    """
    timer = shutil.which("time", path="/usr/bin:/bin")
    if timer is None:
        result: Json = onnx_large.measure(what, path)
        return result
    proc = subprocess.run([timer, "-f", "peak-rss-kib %M", sys.executable, "-c", onnx_large.MEASURE, what, str(path)],
                          capture_output=True, text=True, check=True)
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    kib = [line.split()[-1] for line in proc.stderr.splitlines() if line.startswith("peak-rss-kib ")]
    if kib:
        result["peak_rss_mib"] = round(int(kib[-1]) / 1024, 1)
    result.pop("schemes", None)
    return result


def _layers_model(path: Path, layers: int, width: int = 64) -> None:
    """An MLP of ``layers`` Gemm+Relu nodes with He-scaled width x width weights (inline data)."""
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper, save

    rng = np.random.default_rng(0)
    nodes, inits = [], []
    for i in range(layers):
        w = (rng.standard_normal((width, width)) * np.sqrt(2 / width)).astype(np.float32)
        inits.append(numpy_helper.from_array(w, f"w{i}"))
        src = "x" if i == 0 else f"a{i - 1}"
        nodes.append(helper.make_node("Gemm", [src, f"w{i}"], [f"h{i}"], name=f"fc{i}", transB=1))
        nodes.append(helper.make_node("Relu", [f"h{i}"], [f"a{i}"], name=f"relu{i}"))
    graph = helper.make_graph(nodes, "mlp", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, width])],
                              [helper.make_tensor_value_info(f"a{layers - 1}", TensorProto.FLOAT, [1, width])], inits)
    save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))


def section_live(quick: bool) -> Json:
    return child("live", "quick" if quick else "full")


def section_scaling(quick: bool, reps: int) -> Json:
    base = 500 if quick else 20000
    doc = child("scaling", str(reps), str(base), str(2 * base))
    if "skipped" not in doc and len(doc["sizes"]) == 2:
        small, large = doc["sizes"]
        doc["time_ratio"] = round(large["initlint"]["cpu_s"] / max(small["initlint"]["cpu_s"], 1e-9), 3)
        doc["parse_ratio"] = round(large["libcst_parse"]["cpu_s"] / max(small["libcst_parse"]["cpu_s"], 1e-9), 3)
    return doc


# -- machine, targets, table --------------------------------------------------------------


def machine() -> Json:
    from importlib import metadata

    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        mem = Path("/proc/meminfo").read_text().splitlines()[0].split(":", 1)[1].strip()
    except (OSError, IndexError):
        pass
    versions = {}
    for dist in ("initlint", "libcst", "torch", "onnx", "keras"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = None
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    return {"cpu": model, "cores": os.cpu_count(), "memory": mem, "python": platform.python_version(),
            "platform": platform.platform(), "versions": versions, "commit": commit.stdout.strip() or None,
            "load_average_start": list(os.getloadavg())}


def targets(doc: Json) -> list[Json]:
    """Each target: the measured value, the bound, and whether it is met (None when not measured)."""
    rows: list[Json] = []

    def add(name: str, value: float | None, bound: float, unit: str, lower_is_better: bool = True) -> None:
        met = None if value is None else (value <= bound if lower_is_better else value >= bound)
        rows.append({"target": name, "value": None if value is None else round(value, 3), "bound": bound,
                     "unit": unit, "met": met})

    s = doc.get("static", {})
    if "initlint" in s:
        add("static single process / bare libcst parse (CPU)", s["initlint"]["cpu_s"] / s["libcst_parse"]["cpu_s"], 1.3, "x")
        cli = s["cli"]
        add("--jobs 2 speed-up over --jobs 1 (wall)", cli["jobs1"]["wall_s"] / cli["jobs2"]["wall_s"], 1.7, "x", False)
        add("warm cache / cold (wall)", cli["cache_warm"]["wall_s"] / cli["cache_cold"]["wall_s"], 0.10, "x")
        formats = s.get("formats", {})
        if "json_over_text_cpu" in formats:
            add("--format json / text (CPU, --jobs 1)", formats["json_over_text_cpu"], 1.15, "x")
            add("--format sarif / text (CPU, --jobs 1)", formats["sarif_over_text_cpu"], 1.15, "x")
    pr = doc.get("project", {})
    if "whole_text" in pr:
        parse = pr["libcst_parse"]["cpu_s"]
        add("whole-project run, text / bare libcst parse (CPU)", pr["whole_text"]["cpu_s"] / parse, 1.5, "x")
        add("whole-project run, JSON / bare libcst parse (CPU)", pr["whole_json"]["cpu_s"] / parse, 1.5, "x")
        add("one changed file, warm cache, project model (wall)", pr["one_file_project_warm"]["median_wall_s"], 1.5, "s")
    p = doc.get("precommit", {})
    if "python_m_initlint" in p:
        base = p["import_libcst"]["median_wall_s"]
        add("pre-commit one file (python -m) / import libcst", p["python_m_initlint"]["median_wall_s"] / base, 1.5, "x")
        if "initlint_script" in p:
            add("pre-commit one file (script) / import libcst", p["initlint_script"]["median_wall_s"] / base, 1.5, "x")
    large = doc.get("onnx", {}).get("large", {})
    if "initlint" in large and "onnx.load" in large:
        add("ONNX >= 1 GiB audit / onnx.load (time)", large["initlint"]["run_s"] / max(large["onnx.load"]["run_s"], 1e-9),
            0.5, "x")
        add("ONNX >= 1 GiB audit peak RSS / weight bytes", large["initlint"]["peak_rss_mib"] / (large["weight_gib"] * 1024),
            0.25, "x")
    live = doc.get("live", {})
    if "check_model_s" in live:
        add("live check / (construct + forward/backward) (wall)",
            live["check_model_s"] / (live["construct_s"] + live["forward_backward_s"]), 1.5, "x")
        add("live check / (construct + forward/backward) (CPU)",
            live["check_model_cpu_s"] / (live["construct_cpu_s"] + live["forward_backward_cpu_s"]), 1.5, "x")
    sc = doc.get("scaling", {})
    if "time_ratio" in sc:
        add("2x file -> time ratio", sc["time_ratio"], 2.3, "x")
    return rows


def table(doc: Json) -> str:
    lines = []
    s = doc.get("static", {})
    if "initlint" in s:
        lines.append(f"static corpus: {s['files']} files, {s['lines']} lines ({s['framework_files']} mention a framework)")
        for name in ("ast_parse", "libcst_parse", "libcst_parse_framework_files", "initlint"):
            row = s[name]
            lines.append(f"  {name:<30} {row['wall_s']:8.2f} s wall {row['cpu_s']:8.2f} s CPU"
                         f"  {s['files'] / row['wall_s']:8.0f} files/s {s['lines'] / row['wall_s']:9.0f} lines/s")
        for name, row in s["cli"].items():
            lines.append(f"  cli {name:<26} {row['wall_s']:8.2f} s wall {row['cpu_s']:8.2f} s CPU"
                         f"  {s['files'] / row['wall_s']:8.0f} files/s  peak {row['peak_rss_mib']:.0f} MiB")
        for name in ("text", "json", "sarif"):
            row = s.get("formats", {}).get(name)
            if row:
                lines.append(f"  cli --format {name:<17} {row['wall_s']:8.2f} s wall {row['cpu_s']:8.2f} s CPU"
                             f"  (median {row['median_wall_s']:.2f} s wall)")
        for name, row in s.get("torchfix", {}).items():
            if isinstance(row, dict):
                lines.append(f"  torchfix {name:<21} {row['wall_s']:8.2f} s wall {row['cpu_s']:8.2f} s CPU"
                             f"  {s['files'] / row['wall_s']:8.0f} files/s")
            else:
                lines.append(f"  torchfix: {row}")
    elif s:
        lines.append(f"static: {s.get('skipped')}")
    pr = doc.get("project", {})
    if "whole_text" in pr:
        lines.append(f"project {pr['root']}: {pr['files']} files; bare libcst parse {pr['libcst_parse']['cpu_s']:.2f} s CPU")
        for name in ("whole_text", "whole_json", "cache_fill"):
            lines.append(f"  {name:<30} {pr[name]['wall_s']:8.2f} s wall {pr[name]['cpu_s']:8.2f} s CPU")
        for name in ("one_file_project_warm", "one_file_project_cold", "one_file_alone_warm"):
            row = pr[name]
            lines.append(f"  {name:<30} median {row['median_wall_s']:.3f} s wall (min {row['min_wall_s']:.3f} s), "
                         f"{row['median_cpu_s']:.3f} s CPU  [{pr['changed_file']}]")
    elif pr:
        lines.append(f"project: {pr.get('skipped')}")
    p = doc.get("precommit", {})
    for name, row in p.items():
        if isinstance(row, dict):
            lines.append(f"pre-commit {name:<26} median {row['median_wall_s']:.3f} s (min {row['min_wall_s']:.3f} s)")
    o = doc.get("onnx", {})
    if "skipped" in o:
        lines.append(f"onnx: {o['skipped']}")
    for row in o.get("layers", []):
        a, b = row["initlint"], row["onnx.load"]
        lines.append(f"onnx {row['layers']:>5} layers: audit {a['run_s']:.3f} s ({a['peak_rss_mib']:.0f} MiB)"
                     f"  onnx.load {b['run_s']:.3f} s ({b['peak_rss_mib']:.0f} MiB)")
    large = o.get("large", {})
    if "initlint" in large:
        lines.append(f"onnx {large['weight_gib']} GiB: audit {large['initlint']['run_s']:.3f} s "
                     f"({large['initlint']['peak_rss_mib']:.0f} MiB)  onnx.load {large['onnx.load']['run_s']:.3f} s "
                     f"({large['onnx.load']['peak_rss_mib']:.0f} MiB)")
    elif large:
        lines.append(f"onnx large: {large.get('skipped')}")
    live = doc.get("live", {})
    if "check_model_s" in live:
        lines.append(f"live {live['model']} {live['input_shape']}: construct {live['construct_s']:.2f} s, "
                     f"forward/backward {live['forward_backward_s']:.2f} s, check_model {live['check_model_s']:.2f} s")
    elif live:
        lines.append(f"live: {live.get('skipped')}")
    sc = doc.get("scaling", {})
    for row in sc.get("sizes", []):
        lines.append(f"scaling {row['lines']:>6} lines: initlint {row['initlint']['cpu_s']:.3f} s CPU, "
                     f"libcst parse {row['libcst_parse']['cpu_s']:.3f} s CPU")
    lines.append("")
    for t in doc.get("targets", []):
        mark = {True: "met", False: "NOT met", None: "n/a"}[t["met"]]
        lines.append(f"{t['target']:<52} {t['value'] if t['value'] is not None else '-':>8} (bound {t['bound']})  {mark}")
    return "\n".join(lines) + "\n"


SECTIONS = ("static", "project", "precommit", "onnx", "live", "scaling")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small inputs, one repetition (a smoke run)")
    parser.add_argument("--corpus", type=Path, help="lint this folder instead of the pinned corpus")
    parser.add_argument("--project", type=Path, help="the package folder of the project section [default: the corpus's timm]")
    parser.add_argument("--only", help=f"comma-separated sections ({','.join(SECTIONS)})")
    parser.add_argument("--reps", type=int, help="repetitions per measurement [default: 3; --quick: 1]")
    parser.add_argument("--skip-torchfix", action="store_true", help="do not run the peer tool")
    parser.add_argument("--out", type=Path, help="JSON file to write [default: benchmarks/results/<time>.json]")
    parser.add_argument("--child", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(CHILDREN[args.child[0]](args.child[1:])))
        return 0
    reps = args.reps or (1 if args.quick else 3)
    only = set(args.only.split(",")) if args.only else set(SECTIONS)
    unknown = only - set(SECTIONS)
    if unknown:
        parser.error(f"unknown section(s): {', '.join(sorted(unknown))}")
    doc: Json = {"quick": args.quick, "reps": reps, "machine": machine()}
    if "static" in only:
        folder = args.corpus or ensure_corpus(CORPUS_DIR)
        roots = [str(p) for p in corpus_paths(folder)]
        doc["corpus"] = {"roots": [os.path.relpath(r, ROOT) if r.startswith(str(ROOT)) else r for r in roots],
                         "pinned": list(PINNED) if args.corpus is None else None}
        doc["static"] = section_static(roots, reps, args.quick, args.skip_torchfix)
    if "project" in only:
        roots = [] if args.project else [str(p) for p in corpus_paths(args.corpus or ensure_corpus(CORPUS_DIR))]
        doc["project"] = section_project(roots, reps, args.project)
    if "precommit" in only:
        doc["precommit"] = section_precommit(1 if args.quick else max(reps, 7))
    if "onnx" in only:
        doc["onnx"] = section_onnx(args.quick)
    if "live" in only:
        doc["live"] = section_live(args.quick)
    if "scaling" in only:
        doc["scaling"] = section_scaling(args.quick, reps)
    doc["machine"]["load_average_end"] = list(os.getloadavg())
    doc["targets"] = targets(doc)
    out = args.out or RESULTS_DIR / f"{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, indent=2) + "\n")
    sys.stdout.write(table(doc))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
