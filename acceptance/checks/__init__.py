"""Checks as plain functions: parsed connector output in, findings out."""
