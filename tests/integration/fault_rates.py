"""The learning rates that make `fault_worker`'s stand-in fail, apart from it: importing
`fault_worker` registers its task in the importing process, so only workers may."""

OOM_RATE = 0.00617  # the model "does not fit" (ResourceExhaustedError)
UNREACHABLE_RATE = 0.01234  # a service is "unreachable" (ConnectionError)
SCORE = 0.8  # what any other trial completes with
