"""Pure domain objects and rules. Imports nothing else from mlgrove but ``errors``."""
