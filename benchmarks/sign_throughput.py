"""C2PA signing of a 2 GB one-``mdat`` mp4: MB/s and peak RSS of the process tree, with same-run references.

Builds (in a temporary folder under ``/tmp`` unless ``--workdir``; deleted at the end unless ``--keep``):

- ``master.mp4``: ``--megabytes`` (default 2000) of lossless 1080p noise, intra-only, as one ``mdat`` after the
  ``moov`` the way most tools write it (two encoded frames muxed again and again: every byte is real payload and
  the file decodes);
- ``parent.mp4``: a small toolkit mp4 used as the parent ingredient.

Then, in a fresh subprocess per run, exactly what ``void-eval sign master.mp4 --parent parent.mp4 --chain C --key K
--method copy --out OUT`` runs (``sign_file`` with its defaults: the parent verified, the removal record and the
thumbnail built in the short-lived helper process, the file presented to c2pa as a fragmented mp4 because its
``mdat`` is far above 16 MiB, ES256 dev key), and in the same subprocess, interleaved run by run, two references
over the same file:

- ``sha256``: a streaming SHA-256 (read + hash, what any signer must at least do);
- ``copy``: a plain copy to a new file in the same folder (read + write, the least a signer that writes its output
  must do), deleted again.

Per run it records the wall time and MB/s, the CPU seconds of the signer and its helper, and peak memory:

- ``tree``: the largest sum of VmRSS over the signing process and all its descendants, sampled every 5 ms by a
  thread in the signing process (the strict reading of the target; shared pages count once per process);
- ``maxrss``/``helper``: ``ru_maxrss`` of the signing process and of its children (the helper has exited before
  c2pa loads, so the two never run at full size together).

The median run (by signing time) is printed with the ratios signing/sha256 and signing/copy, and the signed file's
verification state against the dev root (checked after the figures; it must read ``Trusted``). Target (issue 21):
peak tree RSS < 150 MB and >= 150 MB/s on 2 cores. The machine may be shared: the load average before and after is
printed, and only the same-run ratios compare across machines.

Usage::

    .venv/bin/python benchmarks/sign_throughput.py [--megabytes 2000] [--repeat 1] [--workdir DIR] [--keep]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
HEIGHT, WIDTH = 1080, 1920


def build(workdir: Path, megabytes: int) -> None:
    """Write ``master.mp4`` (one mdat of ~``megabytes`` MB) and ``parent.mp4`` into ``workdir``."""
    from fractions import Fraction

    import av
    import numpy as np

    from void_eval.video import write_video

    rng = np.random.default_rng(0)
    encoder = av.CodecContext.create("libx264rgb", "w")
    encoder.width, encoder.height, encoder.pix_fmt = WIDTH, HEIGHT, "rgb24"
    encoder.time_base = Fraction(1, 25)
    encoder.options = {"qp": "0", "preset": "ultrafast", "keyint": "1"}
    packets = []
    for index in range(2):
        picture = rng.integers(0, 256, (HEIGHT, WIDTH, 3), dtype=np.uint8)
        frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
        frame.pts = index
        packets += [bytes(packet) for packet in encoder.encode(frame)]
    packets += [bytes(packet) for packet in encoder.encode(None)]
    with av.open(str(workdir / "master.mp4"), "w", format="mp4") as container:
        stream = container.add_stream("libx264rgb", rate=25)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "rgb24"
        stream.codec_context.extradata = encoder.extradata
        written, index = 0, 0
        while written < megabytes * 1e6:
            packet = av.Packet(packets[index % len(packets)])
            packet.stream, packet.time_base = stream, Fraction(1, 25)
            packet.pts = packet.dts = index
            packet.is_keyframe = True
            container.mux(packet)
            written += packet.size
            index += 1
    write_video(workdir / "parent.mp4", np.zeros((4, 64, 64, 3), np.uint8), 25)


class TreePeak:
    """Largest sum of VmRSS over this process and its descendants, sampled every 5 ms by a thread."""

    def __init__(self) -> None:
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> TreePeak:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(0.005):
            self.peak_mb = max(self.peak_mb, sum(_rss_kb(pid) for pid in _tree(os.getpid())) / 1024)


def _rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:  # the process has just exited
        pass
    return 0


def _tree(pid: int) -> list[int]:
    pids, index = [pid], 0
    while index < len(pids):
        try:
            tasks = list(Path(f"/proc/{pids[index]}/task").iterdir())
        except OSError:
            tasks = []
        for task in tasks:
            try:
                pids.extend(int(child) for child in (task / "children").read_text().split())
            except OSError:
                pass
        index += 1
    return pids


def _cpu_seconds(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def _timed(function) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def _sha256(path: Path) -> None:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(4 << 20):
            digest.update(block)


def _copy(path: Path) -> None:
    target = path.with_name(".reference_copy.mp4")
    try:
        shutil.copyfile(path, target)
    finally:
        target.unlink(missing_ok=True)


def measure(path: str, parent: str, pki_dir: str) -> None:
    """Inside a subprocess: sign ``path`` as a user does, then the references; print one JSON line of figures."""
    from forensics.provenance.sign import sign_file

    source, pki = Path(path), Path(pki_dir)
    out = source.with_name("signed.mp4")
    out.unlink(missing_ok=True)
    cpu_self, cpu_children = _cpu_seconds(resource.RUSAGE_SELF), _cpu_seconds(resource.RUSAGE_CHILDREN)
    chain, key = pki / "chain.pem", pki / "signer.key"
    with TreePeak() as tree:
        sign_s = _timed(lambda: sign_file(source, parent=Path(parent), chain=chain, key=key, out=out, method="copy"))
    figures = {
        "bytes": source.stat().st_size,
        "sign_s": sign_s,
        "sign_cpu": _cpu_seconds(resource.RUSAGE_SELF) - cpu_self,
        "helper_cpu": _cpu_seconds(resource.RUSAGE_CHILDREN) - cpu_children,
        "tree_mb": tree.peak_mb,
        "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "helper_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
        "sha256_s": _timed(lambda: _sha256(source)),
        "copy_s": _timed(lambda: _copy(source)),
    }
    from forensics.provenance.verify import verify_file

    result = verify_file(out, trust=pki / "root.pem")  # after the figures: it costs nothing in them
    actions = [action["action"] for action in result.actions]
    out.unlink()
    print(json.dumps(figures | {"state": result.worst_state, "actions": actions}))


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (5 min {five:.1f}) on {os.cpu_count()} CPUs"


def _run_once(master: Path, parent: Path, pki: Path) -> dict:
    with open(master, "rb") as handle:  # warm the page cache so every run reads from memory
        while handle.read(8 << 20):
            pass
    done = subprocess.run(
        [sys.executable, __file__, "--measure", str(master), str(parent), str(pki)],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    if done.returncode != 0:
        raise SystemExit(f"signing run failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _report(runs: list[dict]) -> None:
    row = sorted(runs, key=lambda item: item["sign_s"])[len(runs) // 2]  # the median run by signing time
    megabytes = row["bytes"] / 1e6
    sign_rate, sha_rate, copy_rate = (megabytes / row[key] for key in ("sign_s", "sha256_s", "copy_s"))
    cpu_rate = megabytes / (row["sign_cpu"] + row["helper_cpu"])
    print(f"file: {megabytes:.0f} MB, one mdat; median of {len(runs)} run(s); signed file: {row['state']}, "
          f"actions {', '.join(row['actions'])}")  # fmt: skip
    print(f"  sign     {row['sign_s']:6.2f} s  {sign_rate:6.0f} MB/s wall  ({cpu_rate:.0f} MB/s per CPU second)")
    print(f"  sha256   {row['sha256_s']:6.2f} s  {sha_rate:6.0f} MB/s   sign/sha256 {sign_rate / sha_rate:.2f}")
    print(f"  copy     {row['copy_s']:6.2f} s  {copy_rate:6.0f} MB/s   sign/copy {sign_rate / copy_rate:.2f}")
    print(f"  peak RSS: process tree {row['tree_mb']:.0f} MB (signer ru_maxrss {row['maxrss_mb']:.0f} MB, helper "
          f"{row['helper_mb']:.0f} MB)")  # fmt: skip
    if len(runs) > 1:
        print("  all runs, sign s: " + ", ".join(f"{run['sign_s']:.2f}" for run in runs))
    memory_ok, speed_ok = row["tree_mb"] < 150, sign_rate >= 150
    print(
        f"target: peak tree RSS {row['tree_mb']:.0f} MB < 150: {'yes' if memory_ok else 'NO'}; "
        f"{sign_rate:.0f} MB/s >= 150 on 2 cores: {'yes' if speed_ok else 'NO'}"
        + ("" if os.cpu_count() == 2 else f" (this machine has {os.cpu_count()} CPUs)")
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=int, default=2000, help="Size of the one-mdat mp4 (default 2000).")
    parser.add_argument("--repeat", type=int, default=1, help="Runs, each: sign, sha256, copy (1-10; median).")
    parser.add_argument("--workdir", type=Path, default=None, help="Folder for the test files (default: /tmp).")
    parser.add_argument("--keep", action="store_true", help="Keep the test files (default: delete them).")
    parser.add_argument("--measure", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--build", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        measure(*args.measure)
        return 0
    if args.build:
        build(Path(args.build[0]), int(args.build[1]))
        return 0
    if not 1 <= args.repeat <= 10:
        parser.error("--repeat must be 1-10")
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="sign_bench_", dir="/tmp"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        start = time.perf_counter()
        # building (NumPy, PyAV) and the dev PKI run in subprocesses: this launcher stays small
        subprocess.run([sys.executable, __file__, "--build", str(workdir), str(args.megabytes)], check=True, cwd=REPO)
        code = "import sys; from forensics.provenance.keys import make_dev_pki; make_dev_pki(sys.argv[1], force=True)"
        subprocess.run([sys.executable, "-c", code, str(workdir / "pki")], check=True, cwd=REPO)
        print(f"test files ready in {time.perf_counter() - start:.0f} s under {workdir}; before: {_load()}")
        runs = [_run_once(workdir / "master.mp4", workdir / "parent.mp4", workdir / "pki") for _ in range(args.repeat)]
        print(f"after: {_load()}")
        _report(runs)
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
