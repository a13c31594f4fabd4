"""Celery orchestrator: one Optuna study per job (see ../shared/DESIGN.md)."""
