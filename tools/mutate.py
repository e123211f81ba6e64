"""`make mutate [MODULE=<path>]`: mutation testing of the critical modules with cosmic-ray.

For each module, cosmic-ray makes one wrong version at a time (a comparison
flipped, a constant changed, a set element or a statement dropped...) and runs
that module's fast unit tests against it: a version no test fails "survived".
The run happens in a scratch copy of the repository (var/mutate/<name>/tree),
put first on PYTHONPATH, so the working tree is never touched and the
editable install's originals are never the ones imported.

Not part of `make test` (minutes per module). docs/testing.md records each
module's score, its date, and every survivor argued to be equivalent.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from cosmic_ray.work_db import WorkDB, use_db
from cosmic_ray.work_item import WorkerOutcome, WorkResult

REPO = Path(__file__).resolve().parents[1]
WORK = REPO / "var" / "mutate"
# Each critical module and the fast tests that must notice a wrong version of it.
MODULES: dict[str, list[str]] = {
    "services/common/cnop_common/decimals.py": ["services/common/tests/test_decimals.py"],
    "services/order/cnop_order/trades.py": ["services/order/tests/test_rounding.py"],
    "services/gateway/cnop_gateway/limits.py": ["services/gateway/tests/test_resilience_units.py"],
    "services/gateway/cnop_gateway/headers.py": ["services/gateway/tests/test_headers.py"],
}
# Where only part of a module is unit-tested, the functions mutated (the rest, the
# store transactions of trades.py, is proven by the integration suites against the
# real store: a mutant there would need a platform per run).
ONLY_FUNCTIONS: dict[str, list[str]] = {
    "services/order/cnop_order/trades.py": ["order_total"],
}
# The folders the editable install puts on sys.path: their scratch copies go first.
SOURCE_ROOTS = [
    "services/common",
    "services/auth",
    "services/gateway",
    "services/user",
    "services/inventory",
    "services/order",
    "services/web",
    "platform",
]


def scratch_copy(name: str) -> Path:
    """A fresh copy of the tracked files, where cosmic-ray may change one file at a time."""
    tree = WORK / name / "tree"
    shutil.rmtree(tree, ignore_errors=True)
    tree.mkdir(parents=True)
    tracked = subprocess.run(
        ["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True
    ).stdout.split(b"\0")
    for raw in tracked:
        if not raw:
            continue
        source = REPO / raw.decode()
        if source.is_file():
            target = tree / raw.decode()
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return tree


def config_text(module: str, tests: list[str], timeout: float) -> str:
    """cosmic-ray's TOML for one module."""
    pytest = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider"]
    command = " ".join([*pytest, *tests])
    return "\n".join(
        [
            "[cosmic-ray]",
            f'module-path = "{module}"',
            f"timeout = {timeout}",
            "excluded-modules = []",
            f'test-command = "{command}"',
            "",
            "[cosmic-ray.distributor]",
            'name = "local"',
            "",
        ]
    )


def run(module: str, timeout: float) -> dict[str, Any]:
    """Mutate one module; return its counts and survivors."""
    name = Path(module).stem
    tree = scratch_copy(name)
    folder = WORK / name
    config = folder / "config.toml"
    session = folder / "session.sqlite"
    session.unlink(missing_ok=True)
    config.write_text(config_text(module, MODULES[module], timeout))
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(str(tree / root) for root in SOURCE_ROOTS),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    cosmic = [sys.executable, "-m", "cosmic_ray.cli"]
    subprocess.run([*cosmic, "init", str(config), str(session)], cwd=tree, env=env, check=True)
    skip_annotations(session, tree / module, ONLY_FUNCTIONS.get(module))
    baseline = subprocess.run(
        [*cosmic, "baseline", str(config)],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if baseline.returncode != 0:
        raise SystemExit(f"{module}: the tests fail without any mutation:\n{baseline.stdout}")
    subprocess.run([*cosmic, "exec", str(config), str(session)], cwd=tree, env=env, check=True)
    dump = subprocess.run(
        [*cosmic, "dump", str(session)],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return summarise(module, dump.stdout)


def annotation_spans(source: str) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """(start, end) positions of every type annotation: with `from __future__ import
    annotations` they are strings never evaluated, so a mutant there is equivalent."""
    spans = []
    for node in ast.walk(ast.parse(source)):
        annotations: list[ast.expr | None] = []
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            arguments = node.args
            every = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]
            every += [a for a in (arguments.vararg, arguments.kwarg) if a is not None]
            annotations = [node.returns, *(a.annotation for a in every)]
        elif isinstance(node, ast.AnnAssign):
            annotations = [node.annotation]
        for annotation in annotations:
            if annotation is not None and annotation.end_lineno is not None:
                start = (annotation.lineno, annotation.col_offset)
                end = (annotation.end_lineno, annotation.end_col_offset or 0)
                spans.append((start, end))
    return spans


def function_spans(source: str, names: list[str]) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """(start, end) positions of the named top-level functions."""
    return [
        ((node.lineno, 0), (node.end_lineno or node.lineno, node.end_col_offset or 0))
        for node in ast.parse(source).body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name in names
    ]


def skip_annotations(session: Path, module: Path, only: list[str] | None = None) -> int:
    """Mark as skipped the session's mutations inside annotations (and, given `only`,
    outside those functions); return how many."""
    source = module.read_text()
    spans = annotation_spans(source)
    kept = function_spans(source, only) if only else []
    skipped = 0

    def inside(
        position: tuple[int, int], where: list[tuple[tuple[int, int], tuple[int, int]]]
    ) -> bool:
        return any(start <= position < end for start, end in where)

    with use_db(session, WorkDB.Mode.open) as database:
        for item in list(database.pending_work_items):
            positions = [tuple(m.start_pos) for m in item.mutations]
            if all(inside(at, spans) or (only and not inside(at, kept)) for at in positions):
                outcome = WorkResult(worker_outcome=WorkerOutcome.SKIPPED)
                database.set_result(item.job_id, outcome)
                skipped += 1
    return skipped


def summarise(module: str, dump: str) -> dict[str, Any]:
    """Counts from `cosmic-ray dump` (one JSON [job, result] pair per line)."""
    killed = survived = incompetent = skipped = 0
    survivors: list[str] = []
    for line in dump.splitlines():
        job, result = json.loads(line)
        outcome = (result or {}).get("test_outcome")
        if outcome == "killed":
            killed += 1
        elif outcome == "survived":
            survived += 1
            for mutation in job["mutations"]:
                survivors.append(
                    f"{mutation['module_path']}:{mutation['start_pos'][0]}"
                    f" {mutation['operator_name']} #{mutation['occurrence']}"
                )
        elif (result or {}).get("worker_outcome") == "skipped":
            skipped += 1
        else:
            incompetent += 1
    total = killed + survived
    return {
        "module": module,
        "killed": killed,
        "survived": survived,
        "not_run": incompetent,
        "skipped": skipped,
        "score": round(100 * killed / total, 1) if total else 0.0,
        "survivors": survivors,
    }


def main() -> int:
    """Mutate the given module, or every critical one; print the scores."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("module", nargs="?", choices=sorted(MODULES))
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per mutant's tests")
    args = parser.parse_args()
    chosen = [args.module] if args.module else list(MODULES)
    reports = [run(module, args.timeout) for module in chosen]
    for report in reports:
        print(
            f"{report['module']}: {report['score']} % caught"
            f" ({report['killed']} killed, {report['survived']} survived,"
            f" {report['not_run']} not run,"
            f" {report['skipped']} skipped: in annotations or outside the unit tested)"
        )
        for survivor in report["survivors"]:
            print(f"  survived: {survivor}")
    (WORK / "report.json").write_text(json.dumps(reports, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
