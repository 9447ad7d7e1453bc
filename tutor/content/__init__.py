"""Problem content: the native format's schema, its parser, and the service that stores a parsed set."""
