"""The lab's generation engine: teacher requests with concurrency limits, retries, a
budget and a cache (``workers.lab.engine``); wired to tables by ``workers.jobs.lab``."""
