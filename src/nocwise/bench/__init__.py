"""Benchmark suites behind `nocwise bench SUITE --json FILE`."""
