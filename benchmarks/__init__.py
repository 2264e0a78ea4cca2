"""Benchmarks of storeops (run as scripts: .venv/bin/python benchmarks/<name>.py); a package
so that they import each other (benchmarks.real_data) and import-linter checks their imports."""
