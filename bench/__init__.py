"""hookhouse's benchmarks; results go to BENCHMARKS.md (see bench/README.md)."""
