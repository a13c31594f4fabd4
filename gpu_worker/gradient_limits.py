"""Where a layer's gradient norm counts as vanished or exploding.

The gradient-health score (`health.formulas`) and the gradient-flow plot
(`plots`) both judge by these limits. They live apart from `health`, whose
package imports Keras, so rendering plots never pulls TensorFlow in.
"""

GRADIENT_FLOOR = 1e-9  # below this a float32 update cannot move a weight of ~0.1: vanished
GRADIENT_CEILING = 1e3  # above this one SGD step at lr 1e-3 moves weights by ~1: exploding
