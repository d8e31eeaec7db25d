"""The provenance step of ``make demo``: sign a run's deliverables with a fresh dev key, then verify them.

Call :func:`sign_and_verify_run` on the demo's run folder (see :mod:`forensics.provenance.sign_run` for the
layout). It writes a new development PKI (clearly marked not for production) to :func:`demo_keys_folder`, a
per-user folder *outside* the run (``$VOID_EVAL_CACHE/keys/demo``, default ``~/.cache/void-eval/keys/demo``,
mode 0700, the key 0600), so sharing the run folder never shares the private key. It signs every method output and
report image into ``RUN_DIR/signed``, verifies each against the dev root, prints one line per file and writes
``RUN_DIR/signed/verify.json``.

Examples
--------
>>> demo_keys_folder().parts[-2:]
('keys', 'demo')
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

DEMO_KEYS = ("keys", "demo")


def demo_keys_folder() -> Path:
    """Where the demo keeps its development PKI: ``<cache>/keys/demo`` (see :func:`void_eval.weights.cache_dir`)."""
    from void_eval.weights import cache_dir

    return cache_dir().joinpath(*DEMO_KEYS)


def sign_and_verify_run(run_dir: str | Path, *, progress: bool = False, echo=print) -> int:
    """Sign ``run_dir``'s outputs and report images with a fresh dev PKI and verify them.

    Returns the ``verify`` exit code over all signed files (0 when every one is Trusted).
    """
    from forensics.provenance.keys import DEV_MARK, make_dev_pki
    from forensics.provenance.sign_run import sign_run
    from forensics.provenance.verify import exit_code, verify_file
    from void_eval.atomic import write_json_atomic

    run_dir = Path(run_dir)
    folder = demo_keys_folder()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    folder.chmod(0o700)
    pki = make_dev_pki(folder, force=True)
    summary = sign_run(run_dir, chain=pki.chain, key=pki.key, force=True, progress=progress)
    results = [verify_file(item["file"], trust=pki.root) for item in summary.signed]
    states = Counter(result.worst_state for result in results)
    tally = ", ".join(f"{count} {state}" for state, count in sorted(states.items()))
    echo(f"provenance: signed {len(results)} file(s) with a fresh development key ({DEV_MARK}); verified: {tally}")
    echo(f"  dev key (outside the run folder, mode 0600): {pki.key}; trust anchor: {pki.root}")
    for result in results:
        if result.worst_state == "Trusted" and not result.failures:
            continue
        relative = os.path.relpath(result.file, run_dir)
        line = f"  {relative}: {result.worst_state}"
        if result.failures:
            line += f" ({', '.join(result.failures)})"
        echo(line)
    target = summary.out_dir / "verify.json"
    write_json_atomic(target, [result.to_json() for result in results])
    echo(f"  per-file results: {target}")
    return exit_code(results)
