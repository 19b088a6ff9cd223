"""Localization map methods behind one interface (CAM, backprop, baselines, and CAM's successors through
pytorch-grad-cam) and the deep features and linear probes built on GAP networks."""
