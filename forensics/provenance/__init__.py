"""C2PA provenance for void-eval deliverables: sign, verify, catch tampering (see ``docs/provenance.md``).

- :mod:`~forensics.provenance.keys`: an offline development PKI (not for production) and safe key loading;
- :mod:`~forensics.provenance.record`: the removal record (custom assertion ``org.voideval.removal``);
- :mod:`~forensics.provenance.signer` / :mod:`~forensics.provenance.signer_callback`: the c2pa signer from a key
  file (passphrase-protected or not), a command or a callable (HSM/KMS);
- :mod:`~forensics.provenance.manifest`: the manifest definition (actions, record, thumbnail);
- :mod:`~forensics.provenance.parent`: the parent check and what happens to a manifest the file carries;
- :mod:`~forensics.provenance.mp4_boxes` / :mod:`~forensics.provenance.fragment`: mp4 boxes and sample tables;
  one-``mdat`` mp4s seen as fragmented mp4s (bounded-memory signing);
- :mod:`~forensics.provenance.sign`: :func:`~forensics.provenance.sign.sign_file` for mp4, png, jpeg, with the
  checks of :mod:`~forensics.provenance.job` and the c2pa part in :mod:`~forensics.provenance.embed`;
- :mod:`~forensics.provenance.sign_run`: sign every output and report image of a benchmark run;
- :mod:`~forensics.provenance.codes` / :mod:`~forensics.provenance.store`: validation codes and states, one state
  per manifest of a store keyed by label;
- :mod:`~forensics.provenance.verify`: :func:`~forensics.provenance.verify.verify_file` and exit codes;
- :mod:`~forensics.provenance.demo_step`: the ``make demo`` step (fresh dev key outside the run, sign, verify);
- :mod:`~forensics.provenance.cli`: ``void-eval keys dev | sign | sign-run | verify``.

An independent verifier (``@trustnxt/c2pa-ts`` under node, not c2pa-rs) lives in ``tools/c2pa-ts``.
"""
