"""Localization map methods behind one interface (CAM, backprop, baselines) and the deep features and linear probes built on GAP networks."""
