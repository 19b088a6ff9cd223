"""Utilities every layer uses: errors, seeds and threads, progress bars, checksummed caches, atomic outputs, safe image loading, the package's data files."""
