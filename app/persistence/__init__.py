"""User data at rest: documents with their images, conversations and their messages, through SQLAlchemy."""
