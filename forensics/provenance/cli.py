"""``void-eval keys dev``, ``sign``, ``sign-run`` and ``verify``: C2PA provenance on the command line.

Heavy imports (c2pa, cryptography, pandas) happen inside the commands so ``void-eval --help`` stays fast.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from void_eval.cli_options import QuietOption, json_option, json_safe

_ALGORITHMS = ("es256", "es384", "ps256", "ed25519")


def _parse_params(pairs: list[str] | None) -> dict:
    params = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"expected KEY=VALUE, got {pair!r}", param_hint="--param")
        try:
            params[key] = json.loads(value)
        except json.JSONDecodeError:
            params[key] = value
    return params


def _one_signer(key: Path | None, signer_cmd: str | None, password_env: str | None = None) -> bytes | None:
    """Check that exactly one of --key and --signer-cmd is given; the key's passphrase from the environment."""
    from forensics.provenance.signer import password_from_env

    if (key is None) == (signer_cmd is None):
        raise typer.BadParameter("give exactly one of --key and --signer-cmd", param_hint="--key/--signer-cmd")
    if password_env is None:
        return None
    if key is None:
        raise typer.BadParameter(
            "goes with --key (a signer command holds its own key)", param_hint="--key-password-env"
        )
    return password_from_env(password_env)


_PASSWORD_HELP = "Name of an environment variable holding the passphrase of an encrypted --key."


def keys_dev(
    folder: Annotated[Path, typer.Argument(help="Folder for root.pem, intermediate.pem, chain.pem, signer.key.")],
    alg: Annotated[str, typer.Option("--alg", help=f"Key algorithm: {', '.join(_ALGORITHMS)}.")] = "es256",
    days: Annotated[int, typer.Option(help="Validity in days (1-3650).", min=1, max=3650)] = 365,
    force: Annotated[bool, typer.Option("--force", help="Replace existing PKI files.")] = False,
    key_password_env: Annotated[
        str | None,
        typer.Option("--key-password-env", help="Encrypt signer.key with the passphrase in this environment variable."),
    ] = None,
) -> int:
    """Make an offline DEVELOPMENT PKI (root -> intermediate -> signer). Not for production."""
    from forensics.provenance.keys import DEV_MARK, make_dev_pki
    from forensics.provenance.signer import password_from_env

    if alg.lower() not in _ALGORITHMS:
        raise typer.BadParameter(f"must be one of {', '.join(_ALGORITHMS)}", param_hint="--alg")
    password = password_from_env(key_password_env) if key_password_env is not None else None
    pki = make_dev_pki(folder, algorithm=alg.lower(), days=days, force=force, key_password=password)
    typer.echo(f"{DEV_MARK}: wrote a {pki.algorithm} development PKI to {pki.folder}")
    typer.echo(f"  trust anchor  {pki.root}")
    typer.echo(f"  chain         {pki.chain}")
    typer.echo(f"  private key   {pki.key} (mode 0600{', encrypted' if password else ''})")
    return 0


def sign(
    file: Annotated[Path, typer.Argument(help="The deliverable to sign (.mp4, .png, .jpg).")],
    out: Annotated[Path, typer.Option("--out", help="Signed file (or the .c2pa store with --sidecar).")],
    chain: Annotated[Path, typer.Option("--chain", help="PEM chain: signing certificate, then intermediates.")],
    parent: Annotated[
        Path | None, typer.Option("--parent", help="The original it was made from (omit for a new creation).")
    ] = None,
    key: Annotated[Path | None, typer.Option("--key", help="PEM private key (mode 0600).")] = None,
    signer_cmd: Annotated[
        str | None,
        typer.Option("--signer-cmd", help="Command that signs: bytes on stdin, DER/raw signature on stdout."),
    ] = None,
    clip: Annotated[Path | None, typer.Option("--clip", help="Clip folder: quadmask hash and fractions.")] = None,
    method: Annotated[str | None, typer.Option("--method", help="Method registry name.")] = None,
    param: Annotated[list[str] | None, typer.Option("--param", help="Method parameter KEY=VALUE (repeat).")] = None,
    metrics: Annotated[
        Path | None, typer.Option("--metrics", help="Results table (.parquet/.csv) for the metric summary.")
    ] = None,
    sidecar: Annotated[bool, typer.Option("--sidecar", help="Leave the file untouched; write a .c2pa store.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing output (never the source).")] = False,
    trust: Annotated[
        Path | None, typer.Option("--trust", help="PEM trust anchors used to judge the parent's manifest.")
    ] = None,
    allow_invalid_parent: Annotated[
        bool,
        typer.Option(
            "--allow-invalid-parent",
            help="Sign even when the parent's manifest is Invalid (tampered); the record says so.",
        ),
    ] = False,
    key_password_env: Annotated[str | None, typer.Option("--key-password-env", help=_PASSWORD_HELP)] = None,
    remote_url: Annotated[
        str | None,
        typer.Option(
            "--remote-url", help="Publish the manifest at this URL: OUT carries a reference, OUT.c2pa the store."
        ),
    ] = None,
) -> int:
    """Sign FILE with a C2PA manifest recording the AI removal (opened parent + edited + removal record).

    The parent is verified first: its state (Trusted/Valid/NoManifest) is printed and recorded, and a parent whose
    manifest is Invalid is refused (exit 1) unless --allow-invalid-parent is given. A FILE that carries a manifest
    already keeps its history: without --parent it becomes its own parent ingredient; with another --parent it is
    refused unless --force (the record names the manifest replaced). An mp4 with one large mdat box is signed as a
    fragmented mp4 with the same samples (action c2pa.repackaged), so memory stays bounded. The new signature is
    checked against the certificate as soon as it is made (a wrong key or signer command fails and writes
    nothing). Signing needs free space in TMPDIR for one temporary copy of FILE.
    """
    from forensics.provenance.record import metric_summary, read_table
    from forensics.provenance.sign import sign_file

    password = _one_signer(key, signer_cmd, key_password_env)
    summary = None
    if metrics is not None:  # rows of this method and clip when the table has those columns
        table = read_table(metrics)
        summary = metric_summary(
            table,
            method=method if method is not None and "method" in table.columns else None,
            clip=clip.name if clip is not None and "clip" in table.columns else None,
        )
    signed = sign_file(
        file,
        parent=parent,
        chain=chain,
        key=key,
        out=out,
        clip=clip,
        method=method,
        params=_parse_params(param),
        metrics=summary,
        sidecar=sidecar,
        signer_cmd=signer_cmd,
        force=force,
        trust=trust,
        allow_invalid_parent=allow_invalid_parent,
        echo=typer.echo,
        key_password=password,
        remote_url=remote_url,
    )
    typer.echo(f"signed {file} -> {signed}" + (" (sidecar manifest)" if sidecar else ""))
    if remote_url is not None:
        typer.echo(f"manifest store {signed.with_suffix('.c2pa')}: publish it at {remote_url}")
    return 0


def sign_run_command(
    run_dir: Annotated[Path, typer.Argument(help="A benchmark run folder.")],
    chain: Annotated[Path, typer.Option("--chain", help="PEM chain: signing certificate, then intermediates.")],
    key: Annotated[Path | None, typer.Option("--key", help="PEM private key (mode 0600).")] = None,
    signer_cmd: Annotated[
        str | None,
        typer.Option("--signer-cmd", help="Command that signs: bytes on stdin, DER/raw signature on stdout."),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Folder for signed copies (default RUN_DIR/signed).")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace signed copies that exist.")] = False,
    quiet: QuietOption = False,
    as_json: Annotated[bool, json_option("the signed files and notes")] = False,
    key_password_env: Annotated[str | None, typer.Option("--key-password-env", help=_PASSWORD_HELP)] = None,
) -> int:
    """Sign every method output (parent = the clip's input) and report image of RUN_DIR into RUN_DIR/signed."""
    from forensics.provenance.sign_run import sign_run
    from void_eval.runlock import run_folder_lock

    password = _one_signer(key, signer_cmd, key_password_env)
    with run_folder_lock(run_dir, command="sign-run"):  # no run or report rewrites what is being signed
        summary = sign_run(
            run_dir,
            chain=chain,
            key=key,
            signer_cmd=signer_cmd,
            out_dir=out,
            force=force,
            progress=not quiet,
            key_password=password,
        )
    if as_json:
        document = {"out_dir": str(summary.out_dir), "signed": summary.signed, "notes": list(summary.notes)}
        typer.echo(json.dumps(json_safe(document), indent=2, default=str))
        return 0
    outputs = sum(1 for item in summary.signed if item["kind"] == "output")
    typer.echo(f"signed {outputs} output(s) and {len(summary.signed) - outputs} report image(s) into {summary.out_dir}")
    for note in summary.notes:
        typer.echo(f"note: {note}")
    return 0


def verify(
    files: Annotated[list[Path], typer.Argument(help="Files to verify.", show_default=False)],
    trust: Annotated[Path | None, typer.Option("--trust", help="PEM trust anchors (root certificates).")] = None,
    as_json: Annotated[bool, json_option("one array (an object per file)")] = False,
    sidecar: Annotated[
        Path | None,
        typer.Option("--sidecar", help="Manifest store for a single FILE (signed --sidecar, or a remote one fetched)."),
    ] = None,
) -> int:
    """Verify C2PA manifests: the state of every manifest in each file's history, failure codes, signers, actions,
    the removal record.

    Exit 0 all trusted, 4 valid but untrusted (the file's signer or any manifest in its history), 3 no manifest,
    5 the manifest is remote (at a URL; never fetched: fetch it and pass --sidecar), 1 any invalid (changed after
    signing, or a manifest that cannot be validated: the specific c2pa code is shown), 2 usage error: a FILE that is
    missing, a directory, empty or not mp4/m4v/mov/png/jpeg, or a bad --trust or --sidecar file (one
    ``error: FILE: ...`` line, nothing verified).
    """
    from forensics.provenance.verify import check_verifiable, exit_code, verify_file
    from void_eval.errors import InputError

    if sidecar is not None and len(files) != 1:
        raise typer.BadParameter("--sidecar goes with exactly one FILE", param_hint="--sidecar")
    try:
        for path in files:
            check_verifiable(path, trust=trust, sidecar=sidecar)
        results = [verify_file(path, trust=trust, sidecar=sidecar) for path in files]
    except InputError as err:
        typer.echo(f"error: {err}", err=True)
        return 2
    if as_json:
        typer.echo(json.dumps([result.to_json() for result in results], indent=2))
    else:
        for result in results:
            _print_result(result)
    return exit_code(results)


def _print_result(result) -> None:
    line = f"{result.file}: {result.state}"
    if result.manifest_source == "sidecar":
        line += " (sidecar manifest)"
    if result.state not in ("NoManifest", "Remote"):
        line += f", signer {_signer_name(result.signer)}"
    if result.failures:
        line += f", failures: {', '.join(result.failures)}"
    if result.worst_state != result.state:
        line += f"; worst in its history: {result.worst_state}"
    typer.echo(line)
    if result.remote_url:
        typer.echo(f"  remote manifest: {result.remote_url} (never fetched; fetch it and pass --sidecar)")
    if result.detail and result.state != "Remote":
        typer.echo(f"  detail: {result.detail}")
    for action in result.actions:
        text = f"  action {action.get('action')}"
        if action.get("digitalSourceType"):
            text += f" [{action['digitalSourceType'].rsplit('/', 1)[-1]}]"
        if action.get("description"):
            text += f": {action['description']}"
        typer.echo(text)
    if result.removal:
        typer.echo(f"  removal: {_removal_line(result.removal)}")
    for label in result.history():
        entry = result.manifests[label]
        if not entry["active"]:
            text = f"  manifest {label} ({entry['title']}): {entry['state']}, signer {_signer_name(entry['signer'])}"
            typer.echo(text + (f", failures: {', '.join(entry['failures'])}" if entry["failures"] else ""))
        for ingredient in entry["ingredients"]:
            text = f"    ingredient {ingredient.get('title')} ({ingredient.get('relationship')}): {ingredient['state']}"
            if ingredient["failures"]:
                text += f", failures: {', '.join(ingredient['failures'])}"
            typer.echo(text)


def _signer_name(signer: dict | None) -> str:
    return (signer or {}).get("common_name") or (signer or {}).get("issuer") or "-"


def _removal_line(removal: dict) -> str:
    method = removal.get("method") or {}
    fractions = removal.get("region_fractions") or {}
    text = f"method {method.get('name', '-')} v{method.get('version') or '?'}"
    if fractions.get("remove") is not None:
        text += f", remove {fractions['remove']:.2%}"
    if removal.get("rewritten_levels"):
        text += f", rewritten {'/'.join(removal['rewritten_levels'])}"
    files = (removal.get("quadmask") or {}).get("files") or []
    if files:
        text += f", quadmask sha256 {files[0]['sha256'][:16]}..."
    if removal.get("metrics"):
        text += f", {len(removal['metrics'])} metric values"
    return text


def register(app: typer.Typer) -> None:
    """Add ``keys`` (with ``dev``), ``sign``, ``sign-run`` and ``verify`` to the ``void-eval`` app."""
    keys_app = typer.Typer(help="Signing keys (an offline development PKI).", no_args_is_help=True)
    keys_app.command("dev")(keys_dev)
    app.add_typer(keys_app, name="keys")
    app.command("sign")(sign)
    app.command("sign-run")(sign_run_command)
    app.command("verify")(verify)
