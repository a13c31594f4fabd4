"""The out-of-memory stand-in's switch, apart from `fault_worker` (importing that module
replaces the trainer in the importing process, so only worker processes may)."""

OOM_ENV = "ONEGIN_TEST_OOM_DENSE_UNITS"
