"""Fixtures of the study tests: a tiny hand-counted responses file."""

from __future__ import annotations

from pathlib import Path

import pytest

TINY_CSV = """participant,trial,clip,question,options,choice,rt_ms,attention
P1,0,c1,q,a|b,a,3000,false
P1,1,c2,q,b|a,a,3000,false
P1,2,c1,q,a|c,tie,3000,false
P1,3,c1,q,copy-input|a,a,3000,true
P1,4,c1,r,a|b|c,a,3000,false
P2,0,c1,q,b|a,b,3000,false
P2,1,c2,q,a|b,a,3000,false
P2,2,c1,q,c|a,c,3000,false
P2,3,c1,q,a|c,a,3000,true
P2,4,c1,r,c|a|b,a,3000,false
P3,0,c1,q,a|b,a,500,false
P3,1,c2,q,a|c,a,3000,false
P3,2,c2,q,copy-input|b,copy-input,3000,true
P4,0,c1,q,a|b,b,3000,false
P4,1,c1,q,c|b,b,3000,false
P4,2,c2,q,b|c,tie,3000,false
P4,3,c2,q,a|c,c,400,false
P4,4,c1,r,b|c|a,tie,3000,false
P4,5,c2,r,a|b|c,c,3000,false
"""


@pytest.fixture
def tiny_csv(tmp_path: Path) -> Path:
    """19 answers of 4 participants, hand-counted in test_tallies.py."""
    path = tmp_path / "tiny.csv"
    path.write_text(TINY_CSV)
    return path
