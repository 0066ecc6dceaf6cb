"""Tools for flow authors: graphs, schema, simulator, conversation tests."""
