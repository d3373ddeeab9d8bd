"""Background work on Huey: scan an image, requeue lost entries, purge finished ones."""
