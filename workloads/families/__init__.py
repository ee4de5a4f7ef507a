"""One lowering function per model family; each serves every phase its family supports."""
