"""Verified array storage: checkpoint folders of .npy arrays with a checksummed JSON manifest,
and the one atomic write."""
