"""Answering and serving: the chain, the HTTP API, the web page, persistence and the command line."""
