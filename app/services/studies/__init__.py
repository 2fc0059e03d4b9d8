"""Studies across projects: which projects, what each metric picked there, and the numbers."""
