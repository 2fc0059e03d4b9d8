"""Selection metrics computed elsewhere, imported into a project (issue 13)."""
