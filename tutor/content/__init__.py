"""Problem content: the native format's schema, importers for every input format (native, CSV, OATutor, GSM8K), the
service that stores a parsed set, and the import jobs behind the admin upload page."""
