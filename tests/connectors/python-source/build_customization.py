"""Hooks of the generated image build (see tasks/image_build.py): each gets the Dockerfile lines so far and
returns the lines to continue with."""

from __future__ import annotations


def pre_install(dockerfile: list[str]) -> list[str]:
    return [*dockerfile, 'ENV SOURCE_PYTHON_EXAMPLE_STAGE="pre-install"']


def post_install(dockerfile: list[str]) -> list[str]:
    return [*dockerfile, 'ENV SOURCE_PYTHON_EXAMPLE_GREETING="built with build_customization.py"']
