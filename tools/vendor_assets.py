"""Vendor the book's JavaScript from the npm registry at pinned versions (``make vendor``).

The book must typeset its equations without a network, so MathJax is served from the built site
instead of a CDN. The files are committed under ``jupyter_book/_vendor/`` (copied to the site's root
by ``html_extra_path``): set-up, ``make book`` and ``make test`` then need neither npm nor a network,
and the course keeps needing only python3 and make. This script is how they got there, and how to
move to another version: it asks npm for the pinned tarball, refuses it unless its sha512 matches the
pin, copies the few files the book loads, and records each file's sha256 in ``VENDORED.json``.
``--check`` compares the committed files with that record, offline (``tests/test_vendor_assets.py``).

Not under ``jupyter_book/_static``: Jupyter Book 1 adds a script tag for every ``.js`` file there.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENDOR = ROOT / "jupyter_book" / "_vendor"
RECORD = "VENDORED.json"


@dataclass(frozen=True)
class Pin:
    """One npm package at one version, and the files of its tarball the book serves."""

    package: str
    version: str
    integrity: str  # the registry's dist.integrity: sha512 of the tarball, base64
    files: tuple[str, ...]  # paths inside the tarball's package/ folder; a folder takes all it holds
    folder: str  # where under jupyter_book/_vendor (and so under the site's root) they go


PINS = (
    Pin(
        package="mathjax",
        version="3.2.2",
        integrity="sha512-Bt+SSVU8eBG27zChVewOicYs7Xsdt40qm4+UpHyX7k0/O9NliPc+x77k1/FEsPsjKPZGJvtRZM1vO+geW0OhGw==",
        # tex-chtml-full holds every TeX extension, so nothing is fetched on demand; the CHTML
        # fonts are the only other files it loads.
        files=("LICENSE", "es5/tex-chtml-full.js", "es5/output/chtml/fonts/woff-v2"),
        folder="mathjax",
    ),
)


class VendorError(RuntimeError):
    """A vendored asset could not be fetched or does not match its pin."""


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def npm_pack(pin: Pin, into: Path) -> Path:
    """Download the pinned tarball with npm and check it against the pinned sha512."""
    npm = shutil.which("npm")
    if npm is None:
        raise VendorError("make vendor needs npm (Node.js) to fetch from the npm registry; install it and retry")
    spec = f"{pin.package}@{pin.version}"
    result = subprocess.run([npm, "pack", spec, "--json", "--pack-destination", str(into)],
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise VendorError(f"npm pack {spec} failed:\n{result.stderr.strip()}")
    tarball = into / json.loads(result.stdout)[0]["filename"]
    digest = "sha512-" + base64.b64encode(hashlib.sha512(tarball.read_bytes()).digest()).decode()
    if digest != pin.integrity:
        raise VendorError(f"{spec}: the tarball's integrity is {digest}, the pin says {pin.integrity}")
    return tarball


def vendor(pin: Pin, vendor_dir: Path = VENDOR) -> Path:
    """Replace ``vendor_dir/pin.folder`` with the pinned files, and record their sha256."""
    target = vendor_dir / pin.folder
    with tempfile.TemporaryDirectory() as tmp:
        tarball = npm_pack(pin, Path(tmp))
        with tarfile.open(tarball) as archive:
            archive.extractall(tmp, filter="data")
        package = Path(tmp) / "package"
        if target.exists():
            shutil.rmtree(target)
        for name in pin.files:
            source = package / name
            if not source.exists():
                raise VendorError(f"{pin.package}@{pin.version} has no {name}")
            if source.is_dir():
                shutil.copytree(source, target / name)
            else:
                (target / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, target / name)
    files = sorted(p for p in target.rglob("*") if p.is_file())
    record = {
        "package": pin.package,
        "version": pin.version,
        "integrity": pin.integrity,
        "files": {p.relative_to(target).as_posix(): sha256(p) for p in files},
    }
    (target / RECORD).write_text(json.dumps(record, indent=1) + "\n")
    return target


def check(pin: Pin, vendor_dir: Path = VENDOR) -> list[str]:
    """What differs between the committed files and the record written when they were vendored."""
    target = vendor_dir / pin.folder
    if not (target / RECORD).exists():
        return [f"{target / RECORD} is missing: run make vendor"]
    record = json.loads((target / RECORD).read_text())
    problems = [f"{pin.folder}: vendored {record[key]} as {key}, the pin says {value}"
                for key, value in (("version", pin.version), ("integrity", pin.integrity)) if record[key] != value]
    present = {p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file()} - {RECORD}
    for name, digest in record["files"].items():
        if name not in present:
            problems.append(f"{pin.folder}/{name} is missing")
        elif sha256(target / name) != digest:
            problems.append(f"{pin.folder}/{name} differs from {pin.package}@{pin.version}'s")
    problems += [f"{pin.folder}/{name} is not from {pin.package}@{pin.version}" for name in present - set(record["files"])]
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare the committed files with their record")
    args = parser.parse_args(argv)
    if args.check:
        problems = [problem for pin in PINS for problem in check(pin)]
        for problem in problems:
            print(problem, file=sys.stderr)
        return 1 if problems else 0
    for pin in PINS:
        target = vendor(pin)
        print(f"vendored {pin.package}@{pin.version} into {target.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except VendorError as error:
        sys.exit(f"make vendor: {error}")
