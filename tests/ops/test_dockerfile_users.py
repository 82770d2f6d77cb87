"""The image's runtime user owns what it writes (issue 15 #13), read from backend/Dockerfile.

No container engine here: the test replays the runtime stage's instructions that create paths
(``useradd --home-dir``, ``install -d -o``, ``mkdir``, ``chown``, ``WORKDIR``, ``COPY --chown``)
and checks who owns each path the running process writes.
"""

from __future__ import annotations

import re
import shlex
from pathlib import PurePosixPath

from tests.conftest import REPO_DIR

DOCKERFILE = REPO_DIR / "backend" / "Dockerfile"


def stages() -> dict[str, list[tuple[str, str]]]:
    """``{stage name: [(INSTRUCTION, arguments)]}`` with continuation lines joined."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    found: dict[str, list[tuple[str, str]]] = {}
    current: list[tuple[str, str]] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        instruction, _, arguments = line.partition(" ")
        if instruction.upper() == "FROM":
            current = []
            found[arguments.split()[-1]] = current
        current.append((instruction.upper(), arguments.strip()))
    return found


class Filesystem:
    """Owners of the directories the instructions create (anything else: the base image's root)."""

    def __init__(self) -> None:
        self.owner: dict[str, str] = {}
        self.home: dict[str, str] = {}
        self.user = "root"
        self.env: dict[str, str] = {}

    def create(self, path: str, owner: str) -> None:
        parts = PurePosixPath(path).parts
        for i in range(2, len(parts) + 1):  # missing parents are created too, as root
            self.owner.setdefault(str(PurePosixPath(*parts[:i])), "root")
        self.owner[str(PurePosixPath(path))] = owner

    def run(self, command: str) -> None:
        for part in re.split(r"&&|;", command):
            argv = shlex.split(part)
            if not argv:
                continue
            if argv[0] == "useradd":
                name = argv[-1]
                if "--home-dir" in argv:
                    self.home[name] = argv[argv.index("--home-dir") + 1]
            elif argv[0] == "install" and "-d" in argv:
                owner = argv[argv.index("-o") + 1] if "-o" in argv else self.user
                skip = {argv.index(flag) + 1 for flag in ("-o", "-g", "-m") if flag in argv}
                for i, arg in enumerate(argv[1:], start=1):
                    if i not in skip and arg.startswith("/"):
                        self.create(arg, owner)
            elif argv[0] == "mkdir":
                for arg in argv[1:]:
                    if arg.startswith("/"):
                        self.create(arg, self.user)
            elif argv[0] == "chown":
                owner = next(a for a in argv[1:] if not a.startswith("-")).split(":")[0]
                recursive = "-R" in argv
                targets = [a for a in argv[2:] if a.startswith("/")]
                for target in targets:
                    for path in list(self.owner):
                        if path == target or (recursive and path.startswith(target.rstrip("/") + "/")):
                            self.owner[path] = owner
                    self.owner.setdefault(target, owner)

    def replay(self, instructions: list[tuple[str, str]]) -> None:
        for instruction, arguments in instructions:
            if instruction == "RUN":
                self.run(arguments)
            elif instruction == "WORKDIR":
                if arguments not in self.owner:
                    self.create(arguments, "root")  # Docker creates a missing WORKDIR as root
            elif instruction == "COPY":
                args = shlex.split(arguments)
                chown = next((a.split("=", 1)[1] for a in args if a.startswith("--chown=")), None)
                destination = args[-1].rstrip("/")
                if destination.startswith("/") and not destination.startswith("/opt/venv"):
                    self.create(destination, (chown or "root").split(":")[0])
            elif instruction == "USER":
                self.user = arguments
            elif instruction == "ENV":
                for name, value in re.findall(r"(\w+)=(\S+)", arguments):
                    self.env[name] = value


def test_it_runs_as_a_non_root_user_that_owns_its_home_code_and_var_dirs():
    # given the runtime stage replayed
    runtime = stages()["runtime"]
    fs = Filesystem()
    fs.replay(runtime)
    workdir = next(args for instruction, args in reversed(runtime) if instruction == "WORKDIR")

    # then the process runs as that user, and every path it writes is the user's
    user = fs.user
    assert user not in ("root", "0")
    writes = {
        "HOME": fs.home[user],
        "WORKDIR": workdir,
        "STATIC_ROOT": fs.env["STATIC_ROOT"],
        "MEDIA_ROOT": fs.env["MEDIA_ROOT"],
        "var": str(PurePosixPath(fs.env["MEDIA_ROOT"]).parent),
    }
    owners = {name: fs.owner.get(path, "root (base image)") for name, path in writes.items()}
    print("paths the runtime user writes and their owners:", {n: (writes[n], o) for n, o in owners.items()})
    assert owners == dict.fromkeys(writes, user)


def test_it_keeps_the_ai_stage_on_the_same_user():
    ai = stages()["ai"]
    users = [args for instruction, args in ai if instruction == "USER"]
    assert users[-1] == "adspark"
