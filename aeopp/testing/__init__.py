"""aeopp.testing: a simulator of the Pardot API for tests, demos and benchmarks."""
