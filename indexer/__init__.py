"""Indexer: read the corpus, parse practice records, chunk, embed and store them."""
