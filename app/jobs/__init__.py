"""The job base: states, the registry of job kinds, and the fenced lifecycle of a Job row.

Torch-free: the web process imports it to create, read and cancel jobs; workers use it to
claim, renew their lease, report progress and end a job.
"""
