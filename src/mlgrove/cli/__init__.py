"""The `mlgrove` command line: thin commands over the services (embedded) or the client."""
