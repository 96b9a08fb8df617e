"""CPU seconds (user + system, all threads) of the given processes and every descendant, from /proc (Linux).

Usage: python3 bench/proc_cpu.py PID [PID ...]   -> prints one number, e.g. 12.34

`bench/run.sh` reads it before and after a run of several worker processes or nodes, where the load
generator harness can follow one process only.
"""

from __future__ import annotations

import os
import sys

CLK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, CPU seconds) of one process, or None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            data = f.read()
    except OSError:
        return None
    fields = data[data.rindex(")") + 2:].split()
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / CLK


def tree_cpu(roots: list[int]) -> float:
    """The CPU seconds of `roots` and all their descendants alive now."""
    stats = {int(p): s for p in os.listdir("/proc") if p.isdigit() and (s := _stat(int(p))) is not None}
    children: dict[int, list[int]] = {}
    for pid, (parent, _) in stats.items():
        children.setdefault(parent, []).append(pid)
    total, todo, seen = 0.0, list(roots), set()
    while todo:
        pid = todo.pop()
        if pid in seen or pid not in stats:
            continue
        seen.add(pid)
        total += stats[pid][1]
        todo.extend(children.get(pid, []))
    return total


if __name__ == "__main__":
    print(f"{tree_cpu([int(a) for a in sys.argv[1:]]):.3f}")
