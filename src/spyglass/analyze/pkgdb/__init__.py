"""Package databases of operating systems: one module per format (dpkg, apk, rpm)."""
