"""TensorBoard until SIGTERM or SIGINT: ``python -m onegin.tensorboard --logdir DIR …``.

Takes TensorBoard's own flags, serves with its Python API (``TensorBoard.launch``) and
prints the URL it serves on as the first line on stdout, so the caller need not parse
TensorBoard's messages to learn a port the system picked (``--port 0``). TensorBoard
imports TensorFlow at start where it is installed (10–30 s and several hundred MB on a
busy machine, before it answers a request) for features a Keras trial's logs do not
need; hidden from it here, TensorBoard reads them with its own reader in about 2 s.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Sequence


def main(argv: Sequence[str]) -> int:
    sys.modules["tensorflow"] = None  # type: ignore[assignment]  # `import tensorflow` fails
    from tensorboard import default, program

    board = program.TensorBoard(plugins=default.get_plugins())
    board.configure(argv=[sys.argv[0], *argv])
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    try:
        url = board.launch()  # serves on a daemon thread; the data server dies with us
    except program.TensorBoardServerException as exc:
        print(f"TensorBoard did not start: {exc.msg}", file=sys.stderr)
        return 1
    print(url, flush=True)
    stop.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
