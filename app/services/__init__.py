"""Plain functions holding every query and rule; no Request, no templates.

Who commits: services add and flush, never commit. A route that writes commits before it
answers; workers and the CLI use ``app.db.session_scope``. Jobs created in a transaction are
sent to their queue when it commits (``app.jobs.enqueue``).
"""
