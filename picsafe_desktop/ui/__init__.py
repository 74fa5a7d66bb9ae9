"""Qt widgets, models, dialogs and workers: the only package that imports Qt."""
