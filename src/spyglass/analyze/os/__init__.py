"""OS detection: which distribution and release an image is built on."""
