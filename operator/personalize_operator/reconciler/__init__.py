"""One pass of the reconciler: inputs, pure decisions and status rendering, then the I/O that acts on them."""
