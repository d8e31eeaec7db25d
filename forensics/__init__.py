"""Forensics: C2PA provenance (:mod:`forensics.provenance`) and detectors of AI-deleted regions
(:mod:`forensics.detectors`). May import ``void_eval``'s core types; ``void_eval`` never imports this package
outside its CLI."""
