"""Grove's own tests use the mlgrove pytest plugin (registered by the package's entry point)."""
