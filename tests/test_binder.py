"""Binder: repo2docker's generated build installs the CPU-only PyTorch and lessons_lib,
and the README's Binder link opens JupyterLab at the students' copy of the start-here notebook."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pytest

from conftest import ROOT, require_git_history


@pytest.fixture(scope="module")
def dockerfile(tmp_path_factory) -> str:
    """The Dockerfile repo2docker generates for a clean copy of the repository (no Docker needed)."""
    require_git_history()  # the clean copy is what git tracks
    repo = tmp_path_factory.mktemp("binder") / "repo"
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True)
    for name in files.stdout.splitlines():
        target = repo / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)
    result = subprocess.run(
        [sys.executable, "-m", "repo2docker", "--no-build", "--debug",
         "--user-id", "1000", "--user-name", "jovyan", str(repo)],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout + result.stderr


def test_build_uses_the_conda_environment_file(dockerfile):
    assert "Building conda environment" in dockerfile
    assert re.search(r"env update .*--file \"environment.yml\"", dockerfile)


def test_build_runs_postbuild_which_installs_lessons_lib(dockerfile):
    assert "RUN ./postBuild" in dockerfile
    post = (ROOT / "postBuild").read_text()
    assert "pip install --no-deps -e ." in post


def test_environment_pins_cpu_only_pytorch():
    env = (ROOT / "environment.yml").read_text()
    deps = [line.strip().lstrip("- ").strip() for line in env.splitlines() if line.strip().startswith("- ")]
    assert any(d.startswith("pytorch-cpu") for d in deps), "environment.yml must use pytorch-cpu"
    assert not any(re.match(r"(pytorch|torch|pytorch-gpu|cudatoolkit|cuda)\b(?!-cpu)", d) for d in deps)
    assert "conda-forge" in env and "python=3.11" in env


def test_readme_binder_link_opens_lab_at_the_students_start_here(tmp_path):
    """The link opens students/00_start_here.ipynb, which postBuild's last line writes: run here as
    Binder runs it, from the root of a copy of what git tracks (python -m imports lessons_lib from
    the current folder first, so the copy's library and notebooks are the ones used)."""
    readme = (ROOT / "README.md").read_text()
    links = re.findall(r"https://mybinder\.org/v2/gh/[^)\s]+", readme)
    assert links, "README has no Binder link"
    assert all(link.endswith("?urlpath=lab/tree/students/00_start_here.ipynb") for link in links)
    text = (ROOT / "postBuild").read_text()
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    # stop at an error, install the library, then write students/
    assert lines == ["set -euo pipefail", "python -m pip install --no-deps -e .",
                     "python -m lessons_lib.students_folder students"]
    last = lines[-1]
    assert os.access(ROOT / "postBuild", os.X_OK)  # repo2docker runs it as ./postBuild
    require_git_history()
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True)
    for name in files.stdout.splitlines():
        if name.startswith(("lessons_lib/", "notebooks/")):
            (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, tmp_path / name)
    done = subprocess.run([sys.executable, *last.split()[1:]], cwd=tmp_path, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "to students" in done.stdout and (tmp_path / "students" / "00_start_here.ipynb").is_file()
    assert (tmp_path / "students" / "data" / "timings" / "lesson12_speed.json").is_file()
    assert "/students/" in (ROOT / ".gitignore").read_text().splitlines()  # a local run is not committed


def test_environment_pins_agree_with_requirements():
    """Binder's pins (conda's and the pip block's) name the versions requirements.txt pins (a conda pin
    may stop at the minor release); matplotlib exactly (conda's ``==``), as lessons_lib.mathtext_cache
    shares parses only with that one."""
    from lessons_lib import mathtext_cache

    env = (ROOT / "environment.yml").read_text()
    pins = re.findall(r"^\s*- ([a-z][a-z0-9_-]*)(==?)([0-9][0-9.]*)\b", env, flags=re.M)
    conda = {name: version for name, _, version in pins}
    exact = {name for name, op, _ in pins if op == "=="}
    pip = dict(re.findall(r"^([A-Za-z][A-Za-z0-9_-]*)==([0-9][0-9.]*)\s*$",
                          (ROOT / "requirements.txt").read_text(), flags=re.M))
    conda["torch"] = conda.pop("pytorch-cpu")
    shared = {name: version for name, version in conda.items() if name in pip}
    assert len(shared) >= 11 and "torchao" in shared, shared
    for name, version in shared.items():
        if name in exact:
            assert version == pip[name], f"{name}: environment.yml {version}, requirements.txt {pip[name]}"
        else:
            assert (pip[name] + ".").startswith(version + "."), f"{name}: conda {version}, pip {pip[name]}"
    assert "matplotlib" in exact and conda["matplotlib"] == mathtext_cache._MATHTEXT_CHECKED_WITH
