"""Run a command that is stopped when its parent dies: ``python -m onegin.parent_death PID CMD…``.

A local worker must not outlive the `onegin optimize` or `onegin web` that
started it, even when that process is SIGKILLed or crashes and so cannot stop
it. Linux's PR_SET_PDEATHSIG has the kernel send SIGTERM to the worker when its
parent dies (the worker then hands its trial back, as on any stop). The setting
survives exec, so this sets it, checks that the parent is still ``PID`` (it may
have died already), then becomes the command under the same pid. Elsewhere it
only execs. The signal follows the parent *thread* that started the child:
start local workers from a thread that outlives them.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from collections.abc import Sequence

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
EXIT_PARENT_GONE = 75  # EX_TEMPFAIL: nothing was run


def wrap(command: Sequence[str], parent_pid: int | None = None) -> list[str]:
    """``command`` run so that it gets SIGTERM when ``parent_pid`` (default: this process) dies."""
    parent = os.getpid() if parent_pid is None else parent_pid
    return [sys.executable, "-m", __name__, str(parent), *command]


def die_with_parent(parent_pid: int, sig: int = signal.SIGTERM) -> bool:
    """Ask for ``sig`` when the parent dies; False if ``parent_pid`` is no longer the parent."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) != 0:
            errno = ctypes.get_errno()
            raise OSError(errno, f"prctl(PR_SET_PDEATHSIG): {os.strerror(errno)}")
    return os.getppid() == parent_pid


def main(argv: Sequence[str]) -> int:
    if len(argv) < 2 or not argv[0].isdigit():
        print("usage: python -m onegin.parent_death PARENT_PID COMMAND [ARG…]", file=sys.stderr)
        return 2
    if not die_with_parent(int(argv[0])):
        print(f"parent {argv[0]} is gone: not starting {argv[1]}", file=sys.stderr)
        return EXIT_PARENT_GONE
    os.execvp(argv[1], list(argv[1:]))
    return 0  # pragma: no cover


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
