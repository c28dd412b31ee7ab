"""The REST API's operations, one module per group of handlers, merged by `contract.openapi`."""
