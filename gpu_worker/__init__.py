"""GPU worker: datasets, model builder, training, health metrics and plots.

Everything here may import TensorFlow, but only lazily inside functions or in
modules that the web app and orchestrator never import.
"""
