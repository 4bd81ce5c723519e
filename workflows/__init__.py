"""Temporal workflows, one package per family (workflows.py, activities.py)."""
