"""Recognising messy images at setup, and the one-line summary of what was done about them."""

from __future__ import annotations

import logging

import pytest
from image_fixtures import QUIRKY_FILES, SKIPPED, encode, natural_image, write_quirky_files

from gan_zoo.data.quirks import (
    QUIRKS,
    Quirks,
    UnreadableImageError,
    image_quirks,
    inspect_image,
    log_scan,
)


def quirks_of(path, channels=3):
    info = inspect_image(path)
    small = ["upscaled"] if min(info.width, info.height) < 64 else []
    return sorted(image_quirks(info, channels, path, upright=True) + small)


@pytest.mark.parametrize("name", sorted(set(QUIRKY_FILES) - SKIPPED))
def test_each_readable_quirk_is_recognised(name, tmp_path):
    write_quirky_files(tmp_path, [name])
    assert quirks_of(tmp_path / name) == sorted(QUIRKY_FILES[name][1])


@pytest.mark.parametrize("name", sorted(SKIPPED))
def test_each_unreadable_file_says_why(name, tmp_path):
    write_quirky_files(tmp_path, [name])
    with pytest.raises(UnreadableImageError) as error:
        inspect_image(tmp_path / name)
    assert {error.value.quirk: 1} == QUIRKY_FILES[name][1]


def test_bytes_and_files_give_the_same_answer(tmp_path):
    write_quirky_files(tmp_path, ["cmyk.jpg"])
    assert inspect_image((tmp_path / "cmyk.jpg").read_bytes()) == inspect_image(tmp_path / "cmyk.jpg")


@pytest.mark.parametrize(("cut", "quirk"), [(10, "truncated"), (1000, "truncated"), (-3, "truncated")])
def test_truncation_is_found_wherever_the_file_ends(cut, quirk):
    data = encode(natural_image(64, 64), "JPEG", quality=90)
    with pytest.raises(UnreadableImageError) as error:
        inspect_image(data[:cut])
    assert error.value.quirk == quirk


def test_truncated_webp_is_found():
    data = encode(natural_image(64, 64), "WEBP", lossless=True)
    with pytest.raises(UnreadableImageError) as error:
        inspect_image(data[: len(data) - 50])
    assert error.value.quirk == "truncated"


def test_gray_is_not_a_conversion_when_gray_is_asked_for(tmp_path):
    write_quirky_files(tmp_path, ["gray.jpg"])
    assert quirks_of(tmp_path / "gray.jpg", channels=1) == []


def test_summary_groups_counts_by_action():
    quirks = Quirks()
    quirks.add("truncated", 2)
    quirks.add("grayscale")
    quirks.add("cmyk")
    quirks.add("box_clamped", 3)
    assert quirks.skipped == 2
    assert quirks.summary() == (
        "skipped: 2 truncated; clamped: 3 box partly outside the image; converted to RGB: 1 grayscale, 1 CMYK"
    )
    assert Quirks().summary() == ""


def test_unknown_quirk_names_the_known_ones():
    with pytest.raises(KeyError, match="truncated"):
        Quirks().add("wobbly")


def test_every_quirk_says_what_is_done():
    assert all(action and found for action, found in QUIRKS.values())


def test_scan_summary_is_one_warning_line(caplog):
    quirks = Quirks()
    quirks.add("unreadable")
    with caplog.at_level(logging.INFO, logger="gan_zoo.data"):
        log_scan("ImageFolder (train)", 41, quirks)
        log_scan("ImageFolder (test)", 42, Quirks())
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        ("WARNING", "ImageFolder (train): 41 samples; skipped: 1 unreadable or not an image"),
        ("INFO", "ImageFolder (test): 42 samples, no quirks"),
    ]


def test_exif_orientation_counts_only_when_applied(tmp_path):
    write_quirky_files(tmp_path, ["rotated.jpg"])
    info = inspect_image(tmp_path / "rotated.jpg")
    assert info.orientation == 6
    assert image_quirks(info, 3, tmp_path / "rotated.jpg") == []
