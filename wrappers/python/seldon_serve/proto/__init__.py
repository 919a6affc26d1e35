"""gRPC stubs generated from wrappers/proto/ when the package is built (see setup.py)."""
