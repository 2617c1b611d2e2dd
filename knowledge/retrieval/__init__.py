"""Retrieval for answering with citations: chunks, embedders, FAISS indexes and hybrid (dense + BM25) search.

The knowledge-base index is built by `rxlens kb build`; uploaded documents live in one index per owner, so one
user's leaflet can never be retrieved for another.
"""
