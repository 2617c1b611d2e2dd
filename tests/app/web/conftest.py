"""The browser test runs the same real app as the API tests: their fixtures (the shared knowledge parts, an app
on its own user database in tmp) are reused rather than copied."""

from tests.app.api.conftest import knowledge_parts, make_app, user_database

__all__ = ["knowledge_parts", "make_app", "user_database"]
