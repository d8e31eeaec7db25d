"""C2PA signing speed and peak memory on a ~500 MB mp4, against streaming SHA-256 of the same file (the reference).

Builds (once, in ``--workdir``):

- ``toolkit.mp4``: ~500 MB written by ``void_eval.video.VideoWriter`` (fragmented, lossless noise at 1080p, so
  nothing compresses and every byte is real payload);
- ``foreign.mp4``: the same stream remuxed by PyAV without fragmenting (moov + one ~500 MB ``mdat``), as most
  other tools write;
- ``parent.mp4``: a small toolkit mp4 used as the parent ingredient.

Then signs each in a fresh subprocess (``core.backing_store_memory_threshold_in_mb: 0``, ES256 dev key) and
prints the file size, wall time, MB/s, peak RSS (``ru_maxrss``) and RSS after imports, plus the reference: a
streaming SHA-256 over the same file in the same subprocess (signing must hash every byte at least once).

Targets (issue 7): toolkit file peak RSS <= 100 MB and >= 250 MB/s on 2 cores; the foreign file's RSS is reported.

Usage::

    .venv/bin/python benchmarks/sign_throughput.py [--workdir DIR] [--megabytes 500]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
HEIGHT, WIDTH = 1080, 1920


def build(workdir: Path, megabytes: int) -> tuple[Path, Path, Path]:
    import av
    import numpy as np

    from void_eval.video import VideoWriter, write_video

    toolkit, foreign, parent = workdir / "toolkit.mp4", workdir / "foreign.mp4", workdir / "parent.mp4"
    if not toolkit.exists():
        rng = np.random.default_rng(0)
        pool = rng.integers(0, 256, (8, HEIGHT, WIDTH, 3), dtype=np.uint8)  # lossless noise: ~6 MB per frame
        with VideoWriter(toolkit, 25, kind="lossless", preset="ultrafast") as writer:
            for frame in range(10_000):
                writer.write(np.roll(pool[frame % 8], frame, axis=1)[None])
                if frame % 8 == 7 and _written_bytes(workdir, toolkit) >= megabytes * 1e6:
                    break
    if not foreign.exists():
        with av.open(str(toolkit)) as source, av.open(str(foreign), "w", format="mp4") as target:
            stream_in = source.streams.video[0]
            stream_out = target.add_stream_from_template(stream_in)
            for packet in source.demux(stream_in):
                if packet.dts is None:
                    continue
                packet.stream = stream_out
                target.mux(packet)
    if not parent.exists():
        write_video(parent, np.zeros((4, 64, 64, 3), np.uint8), 25)
    return toolkit, foreign, parent


def _written_bytes(workdir: Path, target: Path) -> int:
    """Bytes of ``target`` being written (VideoWriter writes ``.<stem>.*.part`` in the same folder)."""
    return sum(path.stat().st_size for path in workdir.glob(f".{target.stem}.*.part"))


def _peak_rss_mb() -> float:
    """Peak resident set of this process (VmHWM; unlike ru_maxrss it does not inherit the parent's peak)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(path: str, parent: str, pki_dir: str) -> None:
    """Inside a subprocess: sign ``path`` then hash it; print one JSON line (wall and CPU seconds, peak RSS)."""
    import c2pa  # noqa: F401 - imported up front, as `void-eval sign` does, so the baseline holds it

    from forensics.provenance.sign import sign_file

    base_rss = _peak_rss_mb()
    source = Path(path)
    out = source.with_name(source.stem + ".signed.mp4")
    out.unlink(missing_ok=True)
    pki = Path(pki_dir)
    wall, cpu = time.perf_counter(), time.process_time()
    sign_file(source, parent=Path(parent), chain=pki / "chain.pem", key=pki / "signer.key", out=out, method="copy")
    sign_s, sign_cpu = time.perf_counter() - wall, time.process_time() - cpu
    sign_rss = _peak_rss_mb()
    wall, cpu = time.perf_counter(), time.process_time()
    digest = hashlib.sha256()
    with open(source, "rb") as handle:
        while block := handle.read(4 << 20):
            digest.update(block)
    hash_s, hash_cpu = time.perf_counter() - wall, time.process_time() - cpu
    size = source.stat().st_size
    out.unlink()
    row = {"bytes": size, "sign_s": sign_s, "sign_cpu": sign_cpu, "hash_s": hash_s, "hash_cpu": hash_cpu}
    print(json.dumps(row | {"rss_mb": sign_rss, "base_mb": base_rss}))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=None, help="Keep the test files here (default: a temp dir).")
    parser.add_argument("--megabytes", type=int, default=500, help="Size of the test mp4 (default 500).")
    parser.add_argument("--measure", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        measure(*args.measure)
        return 0
    from forensics.provenance.keys import make_dev_pki

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="sign_bench_"))
    workdir.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    toolkit, foreign, parent = build(workdir, args.megabytes)
    print(f"test files ready in {time.perf_counter() - start:.0f} s under {workdir}")
    pki = make_dev_pki(workdir / "pki", force=True)
    rows = {}
    for name, path in (("toolkit (fragmented)", toolkit), ("foreign (one mdat)", foreign)):
        with open(path, "rb") as handle:  # warm the page cache so both rows read from memory
            while handle.read(8 << 20):
                pass
        done = subprocess.run(
            [sys.executable, __file__, "--measure", str(path), str(parent), str(pki.folder)],
            capture_output=True,
            text=True,
            check=True,
            cwd=REPO,
        )
        rows[name] = json.loads(done.stdout.strip().splitlines()[-1])
    print(
        f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (timings are wall clock unless noted)"
    )
    header = ("file", "MB", "sign s", "MB/s", "MB/s cpu", "sha256 MB/s", "ratio", "peak RSS MB", "baseline MB")
    print("{:22} {:>7} {:>7} {:>7} {:>9} {:>12} {:>6} {:>12} {:>12}".format(*header))
    for name, row in rows.items():
        megabytes = row["bytes"] / 1e6
        sign_rate, hash_rate = megabytes / row["sign_s"], megabytes / row["hash_s"]
        print(
            f"{name:22} {megabytes:7.1f} {row['sign_s']:7.2f} {sign_rate:7.0f} {megabytes / row['sign_cpu']:9.0f} "
            f"{hash_rate:12.0f} {sign_rate / hash_rate:6.2f} {row['rss_mb']:12.0f} {row['base_mb']:12.0f}"
        )
    print(
        "MB/s cpu = size / CPU seconds of the signing process (all threads): the rate with a core to itself.\n"
        "ratio = signing rate / streaming SHA-256 rate of the same file in the same process.\n"
        "baseline = peak RSS after importing c2pa and the signing module; signing then imports PyAV and the method\n"
        "registry (for the removal record) and decodes the first frame for the thumbnail."
    )
    toolkit_row = rows["toolkit (fragmented)"]
    rate = toolkit_row["bytes"] / 1e6 / toolkit_row["sign_s"]
    cpu_rate = toolkit_row["bytes"] / 1e6 / toolkit_row["sign_cpu"]
    print(
        f"targets (toolkit file): peak RSS {toolkit_row['rss_mb']:.0f} MB <= 100: "
        f"{'yes' if toolkit_row['rss_mb'] <= 100 else 'NO'}; {rate:.0f} MB/s wall (cpu {cpu_rate:.0f}) >= 250: "
        f"{'yes' if rate >= 250 else 'NO'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
