"""`onegin compare`'s report: the statistics of accuracy-only against health-aware search
(analysis.py) and their rendering to HTML, PDF, JSON and plots (report.py)."""
