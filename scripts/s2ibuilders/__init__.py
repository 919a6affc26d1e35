"""Build the s2i builder images from versions.yaml: `python -m s2ibuilders --help`."""
