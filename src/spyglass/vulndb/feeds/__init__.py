"""Feed plugins: the seam (``interface``), one module per source, and the list (``registry``)."""
