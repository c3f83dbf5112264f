"""Peak memory of the real CLI: ``heyan detect PHOTO --out DIR`` on one generated 20 MP
photo, run as a subprocess; its peak RSS comes from the kernel (``os.wait4`` rusage
``ru_maxrss`` of that process, started from a tiny intermediate process so this one's own
memory does not leak into the figure), cross-checked by psutil polling.
The same command on a tiny 640×480 image gives the baseline (interpreter, imports,
onnxruntime session), so the difference is what the 20 MP photo itself costs.

    python bench/bench_memory.py --model heyan-det-v1 --threads 2
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib as bl  # noqa: E402

TAG = "bench_memory"


def heyan_exe() -> str:
    exe = Path(sys.executable).parent / "heyan"
    if exe.is_file():
        return str(exe)
    found = shutil.which("heyan")
    if not found:
        raise SystemExit("cannot find the `heyan` console script (is the package installed in this venv?)")
    return found


# A child's ru_maxrss starts from its parent's high-water RSS: Linux keeps the old address
# space's peak across fork + exec, so a child of this (large) benchmark process would report
# at least this process's own peak. A tiny Python starter forks the command from a small
# address space, waits for it and writes that grandchild's rusage to a file.
_STARTER = """
import json, os, sys
out, cmd = sys.argv[1], sys.argv[2:]
pid = os.fork()
if pid == 0:
    try:
        os.execvp(cmd[0], cmd)
    finally:
        os._exit(127)
_, status, ru = os.wait4(pid, 0)
with open(out, "w") as fh:
    json.dump({"maxrss_kb": ru.ru_maxrss, "user_s": ru.ru_utime, "sys_s": ru.ru_stime}, fh)
sys.exit(os.waitstatus_to_exitcode(status))
"""


def measure(cmd: list[str], env: dict[str, str], workdir: Path, poll_s: float = 0.02) -> dict:
    """Run ``cmd``; its peak RSS (MB) from the kernel (rusage of exactly that process, as
    started by ``_STARTER``) and, as a cross-check, from polling psutil over it and its
    children (polling can miss short peaks)."""
    rusage_file = workdir / "rusage.json"
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", _STARTER, str(rusage_file), *cmd], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    polled = {"peak": 0}
    stop = threading.Event()

    def poll() -> None:
        try:
            import psutil
        except ImportError:
            return
        try:
            starter = psutil.Process(proc.pid)
            while not stop.is_set():
                rss = 0
                for c in starter.children(recursive=True):  # the command, not the starter
                    try:
                        rss += c.memory_info().rss
                    except psutil.Error:
                        pass
                polled["peak"] = max(polled["peak"], rss)
                time.sleep(poll_s)
        except psutil.Error:
            pass

    th = threading.Thread(target=poll, daemon=True)
    th.start()
    out, err = proc.communicate()
    wall = time.perf_counter() - t0
    stop.set()
    th.join()
    if proc.returncode != 0 or not rusage_file.is_file():
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{err.decode(errors='replace')[-2000:]}")
    ru = json.loads(rusage_file.read_text())
    rusage_file.unlink()
    return {"peak_rss_mb": round(ru["maxrss_kb"] / 1024, 1),  # Linux reports kilobytes
            "peak_rss_polled_mb": round(polled["peak"] / 2**20, 1) if polled["peak"] else None,
            "wall_seconds": round(wall, 2), "cpu_seconds": round(ru["user_s"] + ru["sys_s"], 2),
            "command": " ".join(cmd)}


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    bl.add_common_args(ap, photos=1)
    ap.add_argument("--no-annotate", action="store_true",
                    help="also measure `heyan detect --no-annotate` (no annotated copy of the photo)")
    args = ap.parse_args(argv)
    bl.setup_env(args.threads)

    env_info = bl.env_info(args.threads)
    photo = bl.ensure_photos(1, args.seed, args.width, args.height, args.cache_dir, TAG)[0]
    tiny = bl.tiny_photo(args.cache_dir)
    exe = heyan_exe()
    env = dict(os.environ, HEYAN_ORT_THREADS=str(args.threads))
    runs: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="heyan-bench-mem-") as tmp:
        cases = [("tiny_640x480", tiny, []), (f"photo_{args.width}x{args.height}", photo.path, [])]
        if args.no_annotate:
            cases.append((f"photo_{args.width}x{args.height}_no_annotate", photo.path, ["--no-annotate"]))
        for i, (key, path, extra) in enumerate(cases):
            bl.log(TAG, f"heyan detect {path.name} {' '.join(extra)} ...")
            cmd = [exe, "detect", str(path), "--out", str(Path(tmp) / f"out{i}"), "--model", args.model, *extra]
            runs[key] = measure(cmd, env, Path(tmp))
            bl.log(TAG, f"  peak RSS {runs[key]['peak_rss_mb']} MB (polled {runs[key]['peak_rss_polled_mb']} MB), "
                        f"{runs[key]['wall_seconds']} s")
    photo_key = f"photo_{args.width}x{args.height}"
    result = {
        "benchmark": "memory",
        "model": bl.model_info(args.model),
        "settings": {"threads": args.threads, "seed": args.seed, "photo_wxh": [args.width, args.height],
                     "jpeg_bytes": photo.path.stat().st_size,
                     "decoded_image_mb": round(args.width * args.height * 3 / 2**20, 1)},
        "heyan_detect_photo_peak_rss_mb": runs[photo_key]["peak_rss_mb"],
        "heyan_detect_tiny_peak_rss_mb": runs["tiny_640x480"]["peak_rss_mb"],
        "photo_minus_tiny_mb": round(runs[photo_key]["peak_rss_mb"] - runs["tiny_640x480"]["peak_rss_mb"], 1),
        "runs": runs,
        "env": bl.finish_env(env_info, TAG),
    }
    path = bl.write_result(args.name or "memory", result, args.results_dir)
    print(f"\n== peak memory of `heyan detect` ({result['model']['name']}, {args.threads} thread(s)) ==")
    print(bl.table([[k, v["peak_rss_mb"], v["peak_rss_polled_mb"], v["wall_seconds"]] for k, v in runs.items()]
                   + [["20 MP photo minus tiny baseline", result["photo_minus_tiny_mb"], None, None]],
                   ["heyan detect on", "peak RSS MB", "polled MB", "wall s"]))
    print(f"(one decoded {args.width}x{args.height} BGR image is {result['settings']['decoded_image_mb']} MB)")
    print(f"\nwritten {path}")
    return result


if __name__ == "__main__":
    main()
