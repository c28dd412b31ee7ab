"""From "Use in this container" to a kernel that imports the image's package, against doing
it by hand from the same wheels: `python -m venv` + `pip install -r requirements.txt` (and
`uv venv` + `uv pip install -r requirements.txt` where uv is installed), then the same kernel
start. Rounds alternate the ways; a first round of each warms caches and is not counted.

    python benchmarks/use_image.py --rounds 3 --packages 20

The image: `--packages` tiny wheels written by tests/wheels.py (a chain of dependencies) plus
ipykernel and its dependencies from a wheelhouse (fetched once with `pip download`), all
installed offline (`--no-index --find-links`) with pip's machine configuration switched off.
"Ours" is `EnvironmentManager.use` (what `POST images/{id}/use` runs) until the build is ready,
then a kernel started from the kernelspec it registered; "by hand" is the commands a person
types, then a kernel started on that venv's Python. Results go in benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from jupyter_share.environments import BuildSettings, EnvironmentManager  # noqa: E402
from jupyter_share.model import Kind, Resource  # noqa: E402
from tests.wheels import kernel_wheelhouse, make_wheel  # noqa: E402


def usable(kernels: Path, kernel_name: str) -> None:
    """Start a kernel by its kernelspec, import the package, shut it down."""
    from jupyter_client import KernelManager
    from jupyter_client.kernelspec import KernelSpecManager

    km = KernelManager(kernel_name=kernel_name)
    km.kernel_spec_manager = KernelSpecManager(kernel_dirs=[str(kernels)])
    km.start_kernel()
    try:
        kc = km.client()
        kc.start_channels()
        kc.wait_for_ready(timeout=120)
        reply = kc.execute_interactive("import pkg0", timeout=120)
        assert reply["content"]["status"] == "ok", reply
        kc.stop_channels()
    finally:
        km.shutdown_kernel(now=True)


def run(argv: list[str], env: dict) -> None:
    subprocess.run(argv, check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def by_hand(work: Path, requirements: Path, links: list[Path], env: dict, uv: bool) -> float:
    venv = work / f"hand-{time.monotonic_ns()}"
    start = time.perf_counter()
    finds = [a for link in links for a in ("--find-links", str(link))]
    if uv:
        run(["uv", "venv", "--quiet", str(venv)], env)
        run(
            [
                "uv",
                "pip",
                "install",
                "--quiet",
                "--python",
                str(venv / "bin" / "python"),
                "--no-index",
                *finds,
                "-r",
                str(requirements),
            ],
            env,
        )
    else:
        run([sys.executable, "-m", "venv", str(venv)], env)
        run(
            [
                str(venv / "bin" / "python"),
                "-m",
                "pip",
                "install",
                "-q",
                "--no-index",
                *finds,
                "-r",
                str(requirements),
            ],
            env,
        )
    # The kernelspec, as a person registers one: `python -m ipykernel install`.
    run(
        [
            str(venv / "bin" / "python"),
            "-m",
            "ipykernel",
            "install",
            "--prefix",
            str(venv),
            "--name",
            "hand",
        ],
        env,
    )
    usable(venv / "share" / "jupyter" / "kernels", "hand")
    elapsed = time.perf_counter() - start
    shutil.rmtree(venv)
    return elapsed


def ours(work: Path, image: Resource, links: list[Path], installer: str) -> float:
    settings = BuildSettings(
        root=work / "envs",
        kernels_dir=work / "kernels",
        python=sys.executable,
        installer=installer,
        no_index=True,
        find_links=[str(link) for link in links],
    )
    manager = EnvironmentManager(settings)
    start = time.perf_counter()
    environment, started = manager.use(image, "bob")
    assert started
    manager.build(environment["id"]).wait()
    done = manager.get("bob", environment["id"])
    assert done["state"] == "ready", manager.log("bob", environment["id"])
    usable(work / "kernels", done["kernel_name"])
    elapsed = time.perf_counter() - start
    manager.remove("bob", environment["id"])
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--packages", type=int, default=20)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="use-image-bench-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env["PIP_CONFIG_FILE"] = os.devnull
    env["UV_CACHE_DIR"] = str(work / "uv-cache")
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    os.environ.clear()
    os.environ.update(env)
    wheels = work / "wheels"
    packages = []
    for i in range(args.packages):
        requires = (f"pkg{i + 1}==1.{i + 1}",) if i + 1 < args.packages else ()
        make_wheel(wheels, f"pkg{i}", f"1.{i}", requires=requires)
        packages.append({"name": f"pkg{i}", "version": f"1.{i}"})
    kernel = kernel_wheelhouse(Path(tempfile.gettempdir()) / "jupyter-share-bench-kernel-wheels")
    import ipykernel

    pins = [f"{p['name']}=={p['version']}" for p in packages] + [
        f"ipykernel=={ipykernel.__version__}"
    ]
    requirements = work / "requirements.txt"
    requirements.write_text("\n".join(pins) + "\n")
    links = [wheels, kernel]
    image_packages = packages + [{"name": "ipykernel", "version": ipykernel.__version__}]
    has_uv = shutil.which("uv") is not None

    ways = {
        "by hand: venv + pip": lambda: by_hand(work, requirements, links, env, uv=False),
        "ours: pip": lambda: ours(work, image(image_packages), links, "pip"),
    }
    if has_uv:
        ways["by hand: uv venv + uv pip"] = lambda: by_hand(work, requirements, links, env, uv=True)
        ways["ours: uv"] = lambda: ours(work, image(image_packages), links, "uv")
    times: dict = {name: [] for name in ways}
    for round_ in range(args.rounds + 1):
        for name, way in ways.items():
            elapsed = way()
            if round_:  # round 0 warms caches
                times[name].append(elapsed)
            print(f"round {round_} {name}: {elapsed:.2f} s", file=sys.stderr, flush=True)
    result = {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "packages": args.packages + 1,
        "rounds": args.rounds,
        "median_s": {name: round(statistics.median(t), 2) for name, t in times.items()},
    }
    med = result["median_s"]
    result["ours_pip_vs_hand_pip"] = round(med["ours: pip"] / med["by hand: venv + pip"], 2)
    if has_uv:
        result["ours_uv_vs_hand_pip"] = round(med["ours: uv"] / med["by hand: venv + pip"], 2)
        result["ours_uv_vs_hand_uv"] = round(med["ours: uv"] / med["by hand: uv venv + uv pip"], 2)
    print(json.dumps(result, indent=1))
    shutil.rmtree(work, ignore_errors=True)


def image(packages: list) -> Resource:
    """A fresh image id per run: each build is a new environment, as a first use is."""
    return Resource(
        os.urandom(8).hex(),
        Kind.IMAGE,
        "BENCH",
        "alice",
        spec={"environment": {"python": platform.python_version(), "packages": packages}},
    )


if __name__ == "__main__":
    main()
