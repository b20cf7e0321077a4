"""The remote SDK over HTTP. Imports only ``mlgrove.domain`` and ``mlgrove.errors``."""
