"""Instructions per token: POST /token in process (bench/profile_token.py) under valgrind's callgrind, which counts
the instructions executed instead of timing them, so the figure moves by about 2 % from run to run, where timings on
this noisy machine move by half.

Splits each token's instructions into the RSA signature of the access token, the RSA verification of the grant
(together: the crypto floor's work), and everything else (the Python of the checks, the replay claim, the JSON, the
metrics; no HTTP server). An instruction is not a unit of time: the RSA code retires several per cycle and Python's
interpreter fewer, so "everything else" costs more of the time than of the instructions. Use it to compare trees:
run it once with each on PYTHONPATH.

Usage: .venv/bin/python bench/instructions.py [--count 200] [--systemuser]   (needs valgrind)
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: The cryptography bindings' RSA entry points, as callgrind_annotate names them.
SIGN = "RsaPrivateKey>::__pymethod_sign__"
VERIFY = "RsaPublicKey>::__pymethod_verify__"


def _inclusive(annotated: str, symbol: str) -> int:
    """The inclusive instruction count of the first line naming `symbol`, 0 when none does."""
    for line in annotated.splitlines():
        if symbol in line:
            return int(line.split()[0].replace(",", ""))
    return 0


def main() -> None:
    """Run the pass under callgrind and print one JSON line."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, default=200, help="tokens in the counted pass")
    ap.add_argument("--systemuser", action="store_true", help="a system user in every grant (profile_token.py)")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="portvakt-instructions-") as tmp:
        out = Path(tmp) / "callgrind.out"
        command = ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}",
                   sys.executable, str(ROOT / "bench" / "profile_token.py"), "--instrument", "--count", str(a.count)]
        if a.systemuser:
            command.append("--systemuser")
        run = subprocess.run(command, capture_output=True, text=True, cwd=ROOT / "bench", env=dict(os.environ))
        if run.returncode != 0 or "instrumented pass: {200: " + str(a.count) + "}" not in run.stdout:
            sys.exit(f"the counted pass failed:\n{run.stdout[-2000:]}\n{run.stderr[-2000:]}")
        annotated = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100", str(out)],
                                   capture_output=True, text=True, check=True).stdout
    totals = re.search(r"([\d,]+) \(100\.0%\)\s+PROGRAM TOTALS", annotated)
    if totals is None:
        sys.exit(f"callgrind_annotate printed no program totals:\n{annotated[:2000]}")
    total = int(totals.group(1).replace(",", ""))
    sign, verify = _inclusive(annotated, SIGN), _inclusive(annotated, VERIFY)
    per = {name: round(value / a.count) for name, value in
           (("total", total), ("rsa_sign", sign), ("rsa_verify", verify), ("rest", total - sign - verify))}
    print(json.dumps({"tool": "instructions", "tokens": a.count, "systemuser": a.systemuser,
                      "instructions_per_token": per, "total_over_crypto": round(total / (sign + verify), 3)}))


if __name__ == "__main__":
    main()
