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
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from cosmic_ray.work_db import WorkDB, use_db
from cosmic_ray.work_item import WorkerOutcome, WorkResult

REPO = Path(__file__).resolve().parents[1]
WORK = REPO / "var" / "mutate"
SIGNED_CALL_TESTS = [
    "services/common/tests/test_signatures.py",
    "services/common/tests/test_assertion_edges.py",
    "services/common/tests/test_assertions.py",
    "services/common/tests/test_trust.py",
    "tests/contract/test_base64url_vectors.py",
    "tests/contract/test_signed_call_vectors.py",
]
# Each critical module and the fast tests that must notice a wrong version of it.
MODULES: dict[str, list[str]] = {
    "services/common/cnop_common/decimals.py": ["services/common/tests/test_decimals.py"],
    "services/order/cnop_order/trades.py": ["services/order/tests/test_rounding.py"],
    "services/gateway/cnop_gateway/limits.py": ["services/gateway/tests/test_resilience_units.py"],
    "services/gateway/cnop_gateway/headers.py": ["services/gateway/tests/test_headers.py"],
    # The signed calls between services: the assertion, its signature, its nonce.
    "services/common/cnop_common/assertions.py": SIGNED_CALL_TESTS,
    "services/common/cnop_common/signatures.py": SIGNED_CALL_TESTS,
    "services/common/cnop_common/nonces.py": ["services/common/tests/test_nonces.py"],
    "services/auth/cnop_auth/tokens.py": [
        "services/auth/tests/test_tokens.py",
        "tests/contract/test_base64url_vectors.py",
    ],
    "services/common/cnop_common/idempotency.py": ["services/common/tests/test_idempotency.py"],
    # Its unit tests (a scripted store client: retries and refusal mapping); the
    # real store's answers are test_transactions.py's, one platform per run.
    "services/common/cnop_common/transactions.py": [
        "services/common/tests/test_transact_retries.py"
    ],
    "services/web/cnop_web/security.py": ["services/web/tests/test_security.py"],
    "services/web/cnop_web/proxy.py": ["services/web/tests/test_proxy_units.py"],
    "services/gateway/cnop_gateway/rate_batches.py": [
        "services/gateway/tests/test_rate_batches.py"
    ],
    "services/gateway/cnop_gateway/revocations.py": [
        "services/gateway/tests/test_revocation_feed_units.py",
        "tests/security/test_revocation_feed.py",
    ],
}
# Modules whose logic is Lua run by Redis: cosmic-ray mutates Python only, so
# these are mutated here, token by token in each script (lua_mutants below).
LUA_MODULES: dict[str, list[str]] = {
    "services/gateway/cnop_gateway/limit_scripts.py": ["tests/security/test_limit_scripts.py"],
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
    # What `make` installs beside the tracked files (DynamoDB Local's jar): the
    # tests that start a platform need it, and it is never mutated.
    if (REPO / ".cache").is_dir():
        (tree / ".cache").symlink_to(REPO / ".cache", target_is_directory=True)
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


# Lua mutations: each (pattern, replacements); a replacement may be a function
# of the matched text. Comparisons flipped, numbers moved by one, `and`/`or`
# swapped, arithmetic inverted, a flag's value changed.
LUA_SWAPS: list[tuple[str, Any]] = [
    (r">=", [">", "<"]),
    (r"<=", ["<", ">"]),
    (r"(?<![<>=~])>(?!=)", [">=", "<"]),
    (r"(?<![<>=~])<(?!=)", ["<=", ">"]),
    (r"==", ["~="]),
    (r"~=", ["=="]),
    (r"\band\b", ["or"]),
    (r"\bor\b", ["and"]),
    (r"(?<= )\+(?= )", ["-"]),
    (r"(?<= )-(?= )", ["+"]),
    (r"(?<![\w.'])\d+(?![\w.])", lambda text: [str(int(text) + 1), str(int(text) - 1)]),
    (r"'1'", ["'0'"]),
    (r"'0'", ["'1'"]),
]
# A line that opens or closes a block is not deleted alone (that is a syntax error).
BLOCK_LINE = re.compile(r"(\bthen|\bdo|^\s*end|^\s*else)\s*$")


def lua_mutants(script: str) -> list[tuple[str, str]]:
    """(description, mutated script) for every mutation of one script."""
    mutants = []
    for pattern, replacements in LUA_SWAPS:
        for match in re.finditer(pattern, script):
            line = script.count("\n", 0, match.start()) + 1
            found = match.group()
            options = replacements(found) if callable(replacements) else replacements
            for option in options:
                mutated = script[: match.start()] + option + script[match.end() :]
                mutants.append((f"line {line}: {found} -> {option}", mutated))
    lines = script.split("\n")
    for number, text in enumerate(lines, start=1):
        if text.strip() and not BLOCK_LINE.search(text):
            mutated = "\n".join(lines[: number - 1] + lines[number:])
            mutants.append((f"line {number}: deleted ({text.strip()[:50]})", mutated))
    return mutants


def lua_scripts(source: str) -> dict[str, str]:
    """The module's scripts: every top-level string constant that calls Redis."""
    return {
        target.id: node.value.value
        for node in ast.parse(source).body
        if isinstance(node, ast.Assign)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
        and "redis.call" in node.value.value
        for target in node.targets
        if isinstance(target, ast.Name)
    }


def run_lua(module: str, timeout: float) -> dict[str, Any]:
    """Mutate each Lua script of a module, one token or line at a time; run its tests."""
    name = Path(module).stem
    tree = scratch_copy(name)
    path = tree / module
    original = path.read_text()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(str(tree / root) for root in SOURCE_ROOTS),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    pytest = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider"]
    command = [*pytest, *LUA_MODULES[module]]

    def tests_pass() -> bool:
        try:
            done = subprocess.run(
                command, cwd=tree, env=env, capture_output=True, timeout=timeout, check=False
            )
        except subprocess.TimeoutExpired:
            return False
        return done.returncode == 0

    if not tests_pass():
        raise SystemExit(f"{module}: the tests fail without any mutation")
    killed = survived = 0
    survivors = []
    try:
        for script_name, script in lua_scripts(original).items():
            for description, mutated in lua_mutants(script):
                path.write_text(original.replace(script, mutated, 1))
                if tests_pass():
                    survived += 1
                    survivors.append(f"{module} {script_name} {description}")
                else:
                    killed += 1
    finally:
        path.write_text(original)
    total = killed + survived
    return {
        "module": module,
        "killed": killed,
        "survived": survived,
        "not_run": 0,
        "skipped": 0,
        "score": round(100 * killed / total, 1) if total else 0.0,
        "survivors": survivors,
    }


def main() -> int:
    """Mutate the given module, or every critical one; print the scores."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("module", nargs="?", choices=sorted([*MODULES, *LUA_MODULES]))
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per mutant's tests")
    args = parser.parse_args()
    chosen = [args.module] if args.module else [*MODULES, *LUA_MODULES]
    reports = [
        run_lua(module, args.timeout) if module in LUA_MODULES else run(module, args.timeout)
        for module in chosen
    ]
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
