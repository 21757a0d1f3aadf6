"""Build the operator's container image with podman, on a base made locally with debootstrap.

Used by `make image` (`python -m support.image` with tests/ on the path) and by
tests/image/. No registry can be pulled from here, so the base image (Debian
bookworm minbase + python3, the same Python as `python:3.11-slim`) is made
with debootstrap, saved as a tarball in the cache, and imported into podman's
store when it is missing there:

    ~/.cache/personalize-operator/image/base-bookworm-<hash of the recipe>.tar

The container cannot verify TLS to the package index from here, so the
project and its dependencies are built as wheels on the host
(`pip wheel . -w build/wheels`) and the Dockerfile installs them offline
(`--build-arg PIP_WHEELS=build/wheels`). With Docker and the default base,
the same Dockerfile installs from the index instead (docs/image.md).

Every podman call goes through `podman()`: runc (crun fails on this host's
hybrid cgroup layout) and the file/process limits the host accepts.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

REPO = Path(__file__).resolve().parents[2]
DEFAULT_TAG = "localhost/personalize-operator:dev"
BASE_REPOSITORY = "localhost/personalize-base"
WHEELS = Path("build/wheels")  # relative to the build context (the repo root)
RUNC = os.environ.get("PERSONALIZE_IMAGE_RUNTIME", "/usr/sbin/runc")
ULIMITS = ("--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024")
DEFAULT_MIRROR = "http://deb.debian.org/debian"
USER = "10001:10001"


class ImageError(RuntimeError):
    """A step of the image build failed; the message has the command and the end of its output."""


@dataclass(frozen=True)
class Recipe:
    """What goes into the base image. Its hash names the cached tarball: change it and the base is remade."""

    suite: str = "bookworm"
    variant: str = "minbase"
    packages: tuple[str, ...] = ("python3", "python3-venv", "ca-certificates")
    python: str = "3.11"  # bookworm's python3; wheels built on the host must match it
    # Bump when the clean-up or import steps below change what ends up in the tarball.
    revision: int = 2

    def key(self) -> str:
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()[:12]

    @property
    def tag(self) -> str:
        return f"{BASE_REPOSITORY}:{self.suite}-{self.key()}"


@dataclass
class Built:
    image: str
    base: str
    seconds: float
    base_seconds: float
    base_made: str  # "debootstrap", "import" (from the cached tarball) or "present" (already in podman's store)
    size: int = 0
    steps: dict[str, float] = field(default_factory=dict)


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "personalize-operator" / "image"


def podman_command(*args: str) -> list[str]:
    return ["podman", "--runtime", RUNC, *args]


def _run(args: Sequence[str], *, log: IO[str] | None, timeout: float, what: str) -> str:
    """Run `args`, streaming its output to `log` (or the terminal); on failure the ImageError carries its end."""
    started = time.monotonic()
    _say(log, f"$ {' '.join(args)}")
    out = log if log is not None else sys.stdout
    tail: deque[str] = deque(maxlen=80)
    try:
        process = subprocess.Popen(
            list(args), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
    except FileNotFoundError as error:
        raise ImageError(f"{what}: {error} (make image installs podman, runc and debootstrap)") from error
    watchdog = threading.Timer(timeout, process.kill)
    watchdog.start()
    try:
        assert process.stdout is not None
        for line in process.stdout:
            tail.append(line)
            out.write(line)
            out.flush()
        code = process.wait()
    finally:
        watchdog.cancel()
    if code != 0:
        late = f" (killed: timed out after {timeout}s)" if time.monotonic() - started >= timeout else ""
        raise ImageError(f"{what} failed (exit {code}){late}: {' '.join(args)}\n{''.join(tail)}")
    _say(log, f"  ({time.monotonic() - started:.1f}s)")
    return "".join(tail)


def _say(log: IO[str] | None, line: str) -> None:
    print(line, file=log if log is not None else sys.stderr, flush=True)


def podman(*args: str, log: IO[str] | None = None, timeout: float = 600, what: str = "podman") -> str:
    return _run(podman_command(*args), log=log, timeout=timeout, what=what)


def podman_output(*args: str, timeout: float = 120) -> str:
    """A podman query (inspect, exists): its stdout, quietly."""
    done = subprocess.run(podman_command(*args), capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise ImageError(f"podman {' '.join(args)} failed (exit {done.returncode}): {done.stderr.strip()}")
    return done.stdout


def image_exists(reference: str) -> bool:
    done = subprocess.run(podman_command("image", "exists", reference), capture_output=True, text=True, check=False)
    if done.returncode not in (0, 1):  # 1: no such image; anything else: podman itself is broken
        raise ImageError(f"podman image exists {reference} failed (exit {done.returncode}): {done.stderr.strip()}")
    return done.returncode == 0


def image_size(reference: str) -> int:
    return int(podman_output("image", "inspect", "--format", "{{.Size}}", reference).strip())


def image_config(reference: str) -> dict[str, Any]:
    data = json.loads(podman_output("image", "inspect", reference))
    return dict(data[0].get("Config") or {})


def apt_mirror() -> str:
    """The Debian mirror apt is configured with (deb822 or one-line sources), for debootstrap."""
    if os.environ.get("PERSONALIZE_IMAGE_MIRROR"):
        return os.environ["PERSONALIZE_IMAGE_MIRROR"]
    sources = [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt/sources.list.d").glob("*"))]
    for source in sources:
        try:
            text = source.read_text()
        except OSError:
            continue
        for line in text.splitlines():
            words = line.split()
            if source.suffix == ".sources" and words[:1] == ["URIs:"]:
                candidates = words[1:]
            elif words[:1] == ["deb"]:
                candidates = [w for w in words[1:] if "://" in w][:1]
            else:
                continue
            for uri in candidates:
                if uri.rstrip("/").endswith("/debian"):
                    return uri.rstrip("/")
    return DEFAULT_MIRROR


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """One build at a time per cache (make image and the test suite may overlap)."""
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _unmount_under(root: Path) -> None:
    """debootstrap mounts /proc and /sys in the target; a killed run can leave them behind."""
    prefix = str(root.resolve())
    mounts = [line.split()[1] for line in Path("/proc/mounts").read_text().splitlines()]
    for mount in sorted((m for m in mounts if m == prefix or m.startswith(prefix + "/")), reverse=True):
        subprocess.run(["umount", "-l", mount], check=False)


def _remove_tree(root: Path) -> None:
    if root.exists():
        _unmount_under(root)
        shutil.rmtree(root)


def _slim(rootfs: Path) -> None:
    """What a container base does not need: package caches, indexes, logs, manuals; host files podman provides."""
    for pattern in (
        "var/cache/apt/archives/*.deb",
        "var/cache/apt/*.bin",
        "var/lib/apt/lists/*_*",
        "var/log/*.log",
        "var/log/apt/*",
        "usr/share/man/*",
        "usr/share/info/*",
        "usr/share/locale/*/LC_MESSAGES",  # translations; a container logs in English
    ):
        for path in rootfs.glob(pattern):
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()
    for doc in (rootfs / "usr/share/doc").rglob("*"):
        if doc.is_file() and doc.name != "copyright":
            doc.unlink()
    for host_file in ("etc/resolv.conf", "etc/hostname"):
        (rootfs / host_file).unlink(missing_ok=True)
        (rootfs / host_file).write_text("")


def make_base_tarball(recipe: Recipe, tarball: Path, *, log: IO[str] | None) -> None:
    """debootstrap the recipe and pack the root filesystem into `tarball` (written atomically)."""
    if os.geteuid() != 0:
        raise ImageError("debootstrap needs root")
    rootfs = tarball.with_suffix(".rootfs.partial")
    partial = tarball.with_suffix(".tar.partial")
    _remove_tree(rootfs)
    partial.unlink(missing_ok=True)
    try:
        _run(
            [
                "debootstrap",
                f"--variant={recipe.variant}",
                f"--include={','.join(recipe.packages)}",
                recipe.suite,
                str(rootfs),
                apt_mirror(),
            ],
            log=log,
            timeout=1800,
            what="debootstrap",
        )
        _unmount_under(rootfs)
        _slim(rootfs)
        _run(
            [
                "tar",
                "--numeric-owner",
                "--exclude=./dev/*",
                "--exclude=./proc/*",
                "--exclude=./sys/*",
                "-C",
                str(rootfs),
                "-cf",
                str(partial),
                ".",
            ],
            log=log,
            timeout=600,
            what="tar base",
        )
        partial.rename(tarball)
    finally:
        _remove_tree(rootfs)
        partial.unlink(missing_ok=True)


def ensure_base(recipe: Recipe = Recipe(), *, log: IO[str] | None = None) -> tuple[str, str]:
    """The base image's reference, and how it was had: present, import (cached tarball) or debootstrap."""
    if image_exists(recipe.tag):
        return recipe.tag, "present"
    cache = cache_dir()
    with _locked(cache):
        if image_exists(recipe.tag):
            return recipe.tag, "present"
        tarball = cache / f"base-{recipe.suite}-{recipe.key()}.tar"
        how = "import"
        if not tarball.exists():
            make_base_tarball(recipe, tarball, log=log)
            how = "debootstrap"
        podman(
            "import",
            "--change",
            "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "--change",
            "ENV LANG=C.UTF-8",
            "--change",
            'CMD ["python3"]',
            "--message",
            f"debootstrap --variant={recipe.variant} {recipe.suite} + {' '.join(recipe.packages)}",
            str(tarball),
            recipe.tag,
            log=log,
            what="podman import",
        )
        return recipe.tag, how


def build_wheels(recipe: Recipe = Recipe(), *, log: IO[str] | None = None, context: Path = REPO) -> Path:
    """The project's wheel and its dependencies' wheels in build/wheels, for an offline install in the builder."""
    running = f"{sys.version_info.major}.{sys.version_info.minor}"
    if running != recipe.python:
        raise ImageError(f"wheels are built by this Python ({running}) for the image's Python {recipe.python}")
    dest = context / WHEELS
    dest.mkdir(parents=True, exist_ok=True)
    for old in dest.glob("personalize_operator-*.whl"):
        old.unlink()
    deps_stamp = dest / f".deps-{hashlib.sha256((context / 'pyproject.toml').read_bytes()).hexdigest()[:12]}"
    with tempfile.TemporaryDirectory(prefix="personalize-wheel-") as tmp:
        # A clean copy: setuptools would otherwise leave build/lib and egg-info in the work tree.
        source = Path(tmp) / "src"
        source.mkdir()
        for name in ("pyproject.toml", "README.md"):
            shutil.copy2(context / name, source / name)
        shutil.copytree(
            context / "operator",
            source / "operator",
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info"),
        )
        args = [sys.executable, "-m", "pip", "wheel", "--quiet", "--wheel-dir", str(dest), "--find-links", str(dest)]
        if deps_stamp.exists():
            args.append("--no-deps")
        env_epoch = os.environ.get("SOURCE_DATE_EPOCH")
        os.environ["SOURCE_DATE_EPOCH"] = "315532800"  # same source, same wheel bytes: podman's layer cache holds
        try:
            _run([*args, str(source)], log=log, timeout=900, what="pip wheel")
        finally:
            if env_epoch is None:
                os.environ.pop("SOURCE_DATE_EPOCH", None)
            else:
                os.environ["SOURCE_DATE_EPOCH"] = env_epoch
    if not deps_stamp.exists():
        deps_stamp.touch()
    return dest


def build(
    tag: str = DEFAULT_TAG, *, recipe: Recipe = Recipe(), log: IO[str] | None = None, context: Path = REPO
) -> Built:
    """Base (cached), wheels, then `podman build` of the Dockerfile in `context` (this checkout, or another tree)."""
    started = time.monotonic()
    base, how = ensure_base(recipe, log=log)
    base_seconds = time.monotonic() - started
    wheels_started = time.monotonic()
    build_wheels(recipe, log=log, context=context)
    wheels_seconds = time.monotonic() - wheels_started
    build_started = time.monotonic()
    podman(
        "build",
        "--network=none",  # offline: everything comes from the base and build/wheels
        *ULIMITS,
        "--build-arg",
        f"BASE_IMAGE={base}",
        "--build-arg",
        f"PIP_WHEELS={WHEELS.as_posix()}",
        "--tag",
        tag,
        "--file",
        str(context / "Dockerfile"),
        str(context),
        log=log,
        timeout=1200,
        what="podman build",
    )
    return Built(
        image=tag,
        base=base,
        seconds=time.monotonic() - started,
        base_seconds=base_seconds,
        base_made=how,
        size=image_size(tag),
        steps={"base": base_seconds, "wheels": wheels_seconds, "podman build": time.monotonic() - build_started},
    )


@dataclass
class Container:
    """A detached container, run the way the tests run the operator image; `remove()` whatever happened."""

    name: str
    image: str
    args: list[str] = field(default_factory=list)
    options: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    started: bool = False

    def start(self) -> Container:
        env = [f"--env={key}={value}" for key, value in self.env.items()]
        podman_output("run", "--detach", f"--name={self.name}", *ULIMITS, *self.options, *env, self.image, *self.args)
        self.started = True
        return self

    def state(self) -> dict[str, Any]:
        return dict(json.loads(podman_output("container", "inspect", self.name))[0]["State"])

    def exec(self, *command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            podman_command("exec", self.name, *command), capture_output=True, text=True, timeout=60, check=False
        )

    def logs(self) -> str:
        done = subprocess.run(podman_command("logs", self.name), capture_output=True, text=True, timeout=60)
        return done.stdout + done.stderr

    def remove(self) -> None:
        subprocess.run(podman_command("rm", "--force", "--time=10", self.name), capture_output=True, timeout=120)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make image", description=__doc__.splitlines()[0])
    parser.add_argument("--tag", default=DEFAULT_TAG, help=f"image reference to build (default {DEFAULT_TAG})")
    args = parser.parse_args(argv)
    try:
        built = build(args.tag)
    except ImageError as error:
        print(f"image build failed: {error}", file=sys.stderr)
        return 1
    steps = ", ".join(f"{name} {seconds:.1f}s" for name, seconds in built.steps.items())
    print(f"built {built.image} on {built.base} (base: {built.base_made})")
    print(f"size {built.size} bytes ({built.size / 1e6:.1f} MB); {built.seconds:.1f}s ({steps})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
