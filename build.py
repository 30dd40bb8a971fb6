#!/usr/bin/env python3
"""Build a site of news explainers: `python build.py [build|check|serve|new] --help`."""

from dossier.cli import run

if __name__ == "__main__":
    run()
