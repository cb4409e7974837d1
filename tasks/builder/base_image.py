"""`nox -s base_image`: a Python connector base image made locally from Debian, for machines without a registry.

The rootfs comes from `debootstrap` (Debian bookworm, minbase, with python3, venv, pip and CA certificates) and
becomes an image through `docker import`, with the conventions of Airbyte's Python connector base image:

- `python` is Python 3 and `pip` installs into the system (`PIP_BREAK_SYSTEM_PACKAGES=1`), so a Dockerfile written
  as the reference's "Option B" (`FROM airbyte/python-connector-base:1.1.0`, `COPY . ./airbyte/integration_code`,
  `RUN pip install ./airbyte/integration_code`) builds and runs unchanged;
- `ENTRYPOINT ["python", "/airbyte/integration_code/main.py"]` and `AIRBYTE_ENTRYPOINT` say the same thing;
- it is tagged with every base-image tag that connectors and the reference name (`DEFAULT_TAGS`), and carries
  the label `BASE_LABEL` so it can be told apart from an image pulled from Docker Hub.

The working directory is `/`, as in Airbyte's published base images: Option B copies to the *relative* path
`./airbyte/integration_code`, which must resolve to `/airbyte/integration_code` where the entrypoint looks.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import docker
import docker.errors
from docker.models.images import Image
from docker.utils import parse_repository_tag
from filelock import FileLock, Timeout

from acceptance.errors import UserError
from acceptance.runner.docker import docker_client

Say = Callable[[str], None]

REPOSITORY = "airbyte/python-connector-base"
# `local` first: it names the image this tool made; the versions are those real connectors and the reference use.
DEFAULT_TAGS = [f"{REPOSITORY}:{tag}" for tag in ("local", "1.1.0", "2.0.0", "3.0.0", "4.0.0")]
BASE_LABEL = "io.airbyte.connector-acceptance.base"

SUITE = "bookworm"
PACKAGES = ("python3", "python3-venv", "python3-pip", "ca-certificates")
DEFAULT_MIRROR = "http://deb.debian.org/debian"
APT_SOURCES = Path("/etc/apt")

CODE_DIR = "/airbyte/integration_code"
ENTRYPOINT = ["python", f"{CODE_DIR}/main.py"]
WORKDIR = "/"
ENVIRONMENT = {
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "LANG": "C.UTF-8",
    "AIRBYTE_ENTRYPOINT": " ".join(ENTRYPOINT),
    "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    # Debian's pip refuses to install into the system Python (PEP 668) unless told to: a container is the system.
    "PIP_BREAK_SYSTEM_PACKAGES": "1",
}

DEBOOTSTRAP_TIMEOUT_SECONDS = 1800
LOCK_FILE = Path(tempfile.gettempdir()) / "connector-acceptance-base-image.lock"
LOCK_TIMEOUT_SECONDS = 3600
OUTPUT_TAIL_LINES = 25


class BaseImageError(UserError):
    """The base image could not be made; the message says which step failed and shows the tail of its output."""


def build_base_image(tags: list[str], *, say: Say = print, force: bool = False) -> str:
    """Make the base image (or reuse the one tagged `tags[0]`) and tag it with every tag; return its image id.

    Builds are serialised across processes (a file lock): a parallel caller waits, then reuses."""
    if not tags:
        raise BaseImageError("no tag given for the base image")
    client = docker_client()
    if not force and _image(client, tags[0]) is not None:
        return _reuse(client, tags, say)
    try:
        with FileLock(str(LOCK_FILE), timeout=LOCK_TIMEOUT_SECONDS):
            return _build_locked(client, tags, say, force)
    except Timeout:
        raise BaseImageError(f"another base image build held {LOCK_FILE} for {LOCK_TIMEOUT_SECONDS}s") from None


def _build_locked(client: docker.DockerClient, tags: list[str], say: Say, force: bool) -> str:
    existing = _image(client, tags[0])
    if existing is not None and not force:  # a parallel caller built it while we waited
        return _reuse(client, tags, say)
    image_id = _build(client, say)
    _tag(client, image_id, tags)
    say(f"base image {_short(image_id)} tagged {', '.join(tags)}")
    if existing is not None and existing.id != image_id:
        _remove_if_unused(client, existing.id)
    return image_id


def _reuse(client: docker.DockerClient, tags: list[str], say: Say) -> str:
    image = client.images.get(tags[0])
    added = _tag(client, image.id, [t for t in tags[1:] if _image(client, t) is None])
    say(f"base image {tags[0]} is present ({_short(image.id)}), reused"
        + (f"; also tagged {', '.join(added)}" if added else ""))
    return str(image.id)


def _build(client: docker.DockerClient, say: Say) -> str:
    if os.geteuid() != 0:
        raise BaseImageError("building the base image needs root (debootstrap creates a Debian system): "
                             "run `nox -s base_image` as root, e.g. with sudo")
    debootstrap = _ensure_debootstrap(say)
    mirror = debian_mirror()
    workdir = Path(tempfile.mkdtemp(prefix="connector-acceptance-rootfs-"))
    try:
        rootfs = workdir / "rootfs"
        say(f"base image: installing Debian {SUITE} ({', '.join(PACKAGES)}) from {mirror} (a minute or two)")
        argv = [debootstrap, "--variant=minbase", f"--include={','.join(PACKAGES)}", SUITE, str(rootfs), mirror]
        _run(argv, "debootstrap", log_file=rootfs / "debootstrap" / "debootstrap.log",
             timeout=DEBOOTSTRAP_TIMEOUT_SECONDS)
        _unmount_below(workdir)
        _finish_rootfs(rootfs)
        tarball = workdir / "rootfs.tar"
        _run(["tar", "--numeric-owner", "--xattrs", "-C", str(rootfs), "-cf", str(tarball), "."], "pack the rootfs")
        say("base image: importing the rootfs into Docker")
        return _import(client, tarball)
    finally:
        _unmount_below(workdir)
        shutil.rmtree(workdir, ignore_errors=True)


def import_changes() -> list[str]:
    """The Dockerfile instructions `docker import` applies to the rootfs."""
    changes = [f'ENV {name}="{value}"' for name, value in ENVIRONMENT.items()]
    changes += [
        f"WORKDIR {WORKDIR}",
        "ENTRYPOINT [" + ", ".join(f'"{part}"' for part in ENTRYPOINT) + "]",
        f'LABEL {BASE_LABEL}="1"',
    ]
    return changes


def _import(client: docker.DockerClient, tarball: Path) -> str:
    try:
        output = client.api.import_image_from_file(str(tarball), changes=import_changes())
    except docker.errors.APIError as error:
        raise BaseImageError(f"docker import failed: {error.explanation or error}") from None
    found = re.findall(r"sha256:[0-9a-f]{64}", str(output))
    if not found:
        raise BaseImageError(f"docker import gave no image id: {str(output)[-500:]}")
    return found[-1]


def _finish_rootfs(rootfs: Path) -> None:
    python = rootfs / "usr" / "bin" / "python"
    if not python.exists() and not python.is_symlink():
        python.symlink_to("python3")
    (rootfs / CODE_DIR.lstrip("/")).mkdir(parents=True, exist_ok=True)
    # Downloaded packages and the host's network files have no place in an image (Docker mounts its own).
    for pattern in ("var/cache/apt/archives/*.deb", "var/lib/apt/lists/*_*", "var/log/*.log"):
        for leftover in glob.glob(str(rootfs / pattern)):
            Path(leftover).unlink(missing_ok=True)
    for name in ("etc/resolv.conf", "etc/hostname", "etc/hosts"):
        target = rootfs / name
        if target.is_file() and not target.is_symlink():
            target.write_text("")


def _ensure_debootstrap(say: Say) -> str:
    found = _which_debootstrap()
    if found:
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise BaseImageError("debootstrap is not installed: install it with `sudo apt-get install debootstrap` "
                             "(Debian/Ubuntu), then run `nox -s base_image` again")
    say("base image: installing debootstrap (apt-get)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    _run(["apt-get", "update", "-q"], "apt-get update", env=env)
    _run(["apt-get", "install", "-y", "-q", "--no-install-recommends", "debootstrap"],
         "apt-get install debootstrap", env=env)
    found = _which_debootstrap()
    if not found:
        raise BaseImageError("apt-get installed debootstrap, but no `debootstrap` command was found")
    return found


def _which_debootstrap() -> str | None:
    return shutil.which("debootstrap") or shutil.which("debootstrap", path="/usr/sbin:/sbin")


# -- the machine's Debian mirror ------------------------------------------------------------------------------------

# Codenames and aliases whose archive also carries bookworm: a machine on any of them points at a Debian mirror.
DEBIAN_SUITES = frozenset({"buster", "bullseye", "bookworm", "trixie", "forky", "sid", "oldstable", "stable",
                           "testing", "unstable"})


def debian_mirror(apt_dir: Path = APT_SOURCES) -> str:
    """The Debian mirror apt is configured with (`sources.list`, `sources.list.d/*.list|*.sources`), preferring an
    entry for bookworm itself; security and third-party repositories are never chosen. Else deb.debian.org."""
    entries = list(_apt_entries(apt_dir))
    candidates = [(uri, suites) for uri, suites in entries
                  if "security" not in uri and uri.startswith(("http://", "https://", "file:/"))]
    for wanted in ({SUITE}, DEBIAN_SUITES):
        for uri, suites in candidates:
            if wanted & {suite.split("-")[0] for suite in suites if not suite.endswith("-security")}:
                return uri.rstrip("/")
    return DEFAULT_MIRROR


def _apt_entries(apt_dir: Path) -> Iterator[tuple[str, list[str]]]:
    """(URI, suites) of every enabled `deb` source, in apt's reading order."""
    files = [apt_dir / "sources.list", *sorted((apt_dir / "sources.list.d").glob("*.list"))]
    for file in files:
        for line in _read(file).splitlines():
            yield from _one_line_entry(line)
    for file in sorted((apt_dir / "sources.list.d").glob("*.sources")):
        for stanza in re.split(r"\n\s*\n", _read(file)):
            yield from _deb822_entries(stanza)


def _one_line_entry(line: str) -> Iterator[tuple[str, list[str]]]:
    line = re.sub(r"\[[^\]]*\]", " ", line.split("#", 1)[0])  # options like [signed-by=...]
    fields = line.split()
    if len(fields) >= 3 and fields[0] == "deb":
        yield fields[1], [fields[2]]


def _deb822_entries(stanza: str) -> Iterator[tuple[str, list[str]]]:
    fields: dict[str, str] = {}
    key = None
    for line in stanza.splitlines():
        if line.startswith("#"):
            continue
        if line[:1].isspace() and key:
            fields[key] += " " + line.strip()
        elif ":" in line:
            key, value = line.split(":", 1)
            key = key.strip().lower()
            fields[key] = value.strip()
    if "deb" not in fields.get("types", "").split() or fields.get("enabled", "yes").lower() == "no":
        return
    suites = fields.get("suites", "").split()
    for uri in fields.get("uris", "").split():
        yield uri, suites


def _read(file: Path) -> str:
    try:
        return file.read_text(errors="replace")
    except OSError:
        return ""


# -- helpers --------------------------------------------------------------------------------------------------------


def _run(argv: list[str], what: str, *, log_file: Path | None = None, timeout: float | None = None,
         env: dict[str, str] | None = None) -> None:
    """Run quietly; on failure raise with the tail of the output (and of `log_file`, where the tool logs details)."""
    try:
        result = subprocess.run(argv, capture_output=True, text=True, errors="replace", timeout=timeout, env=env,
                                stdin=subprocess.DEVNULL, check=False)
    except subprocess.TimeoutExpired:
        raise BaseImageError(f"{what} did not finish within {timeout:.0f}s") from None
    except OSError as error:
        raise BaseImageError(f"could not run {what}: {error}") from None
    if result.returncode == 0:
        return
    tail = _tail((result.stdout or "") + (result.stderr or ""))
    if log_file is not None and log_file.is_file():
        tail += [f"--- {log_file.name}:"] + _tail(_read(log_file))
    raise BaseImageError(f"{what} failed (exit {result.returncode}):\n" + "\n".join(f"  {line}" for line in tail))


def _tail(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()][-OUTPUT_TAIL_LINES:]


def _unmount_below(folder: Path) -> None:
    """Unmount whatever a failed debootstrap left mounted in the rootfs (/proc, /sys, /dev binds), deepest first,
    so removing the folder can never reach into the host's devices."""
    prefix = str(folder.resolve()) + "/"
    mounts = [line.split()[1] for line in _read(Path("/proc/mounts")).splitlines() if len(line.split()) > 1]
    inside = [_unescape_mount_path(m) for m in mounts if _unescape_mount_path(m).startswith(prefix)]
    for mount in sorted(inside, key=len, reverse=True):
        subprocess.run(["umount", "-l", mount], capture_output=True, check=False)


def _unescape_mount_path(path: str) -> str:
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), path)


def _image(client: docker.DockerClient, name: str) -> Image | None:
    try:
        return client.images.get(name)
    except docker.errors.ImageNotFound:
        return None


def _tag(client: docker.DockerClient, image_id: str, tags: Iterable[str]) -> list[str]:
    done = []
    for tag in tags:
        repository, version = parse_repository_tag(tag)
        if not client.api.tag(image_id, repository, version or "latest", force=True):
            raise BaseImageError(f"could not tag {_short(image_id)} as {tag}")
        done.append(tag)
    return done


def _remove_if_unused(client: docker.DockerClient, image_id: str) -> None:
    """Drop the image a forced rebuild replaced, unless something still uses it (another tag, a child image)."""
    try:
        client.images.remove(image_id)
    except docker.errors.APIError:
        pass


def _short(image_id: str) -> str:
    return image_id.removeprefix("sha256:")[:12]
