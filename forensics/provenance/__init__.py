"""C2PA provenance for void-eval deliverables: sign, verify, catch tampering.

- :mod:`~forensics.provenance.keys`: an offline development PKI (not for production) and safe key loading;
- :mod:`~forensics.provenance.record`: the removal record (custom assertion ``org.voideval.removal``);
- :mod:`~forensics.provenance.signer_callback`: signing through a command or a callable (HSM/KMS);
- :mod:`~forensics.provenance.sign`: :func:`~forensics.provenance.sign.sign_file` for mp4, png, jpeg;
- :mod:`~forensics.provenance.sign_run`: sign every output and report image of a benchmark run;
- :mod:`~forensics.provenance.verify`: :func:`~forensics.provenance.verify.verify_file` and exit codes;
- :mod:`~forensics.provenance.demo_step`: the ``make demo`` step (fresh dev key, sign, verify);
- :mod:`~forensics.provenance.cli`: ``void-eval keys dev | sign | sign-run | verify``.

An independent verifier (``@trustnxt/c2pa-ts`` under node, not c2pa-rs) lives in ``tools/c2pa-ts``.
"""
