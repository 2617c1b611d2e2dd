"""Drug knowledge: the sourced names, classes, interactions and label passages, and the engine that checks them.

Nothing here imports `ingestion` or `app`: the knowledge base is the bottom layer that everything else stands on.
"""
