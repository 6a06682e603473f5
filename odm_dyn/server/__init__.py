"""The embedded ODM server (see issue: server)."""
