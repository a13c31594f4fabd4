"""GPU-worker autoscaling: `onegin scale runpod` creates and terminates RunPod pods.

The decision (`policy.decide`) is pure: queue depth, the pods we own with what
their workers last said, bounds and the time in; pods to create and terminate
out. Everything around it is I/O kept small: the RunPod REST client
(`runpod_api`), the pod template (`pod_template`), worker activity from Celery
(`activity`), the scaler's memory of when each pod was last busy (`tracking`),
one reconcile step (`runpod_scaler`), the command's loop (`runpod_loop`) and its
command-line flags (`commands`, registered as `onegin scale`).
"""

from gpu_worker.scaling.policy import Bounds, Decision, PodView, decide

__all__ = ["Bounds", "Decision", "PodView", "decide"]
