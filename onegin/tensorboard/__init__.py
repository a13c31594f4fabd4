"""A job's TensorBoard logs, fetched from the artifact store and shown by TensorBoard.

GPU workers write TensorBoard logs for every trial and upload them with its artifacts
(``jobs/<id>/trials/<n>/tensorboard/``), wherever they ran. ``onegin tensorboard``
(``command``) reads only the records and the artifact store: it picks the trials
(``selection``, pure), names one run per trial by its number and the parameters that
tell the trials apart (``runs``, pure), mirrors their logs into a cache under the
settings' home (``cache``), lays the runs out as a folder of symlinks and starts
TensorBoard on loopback as a separate program (``server``, which runs this package's
``__main__``). The web app builds its zip of the logs from the same ``selection`` and
``runs``. TensorBoard itself is the ``tensorboard`` extra's; nothing here imports it.
"""
