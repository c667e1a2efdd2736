"""Matching: a snapshot of the store's known hashes (exact tables + perceptual indexes) answering which
entries a file's or a caller's hashes match, for the scan and the matching API alike."""
