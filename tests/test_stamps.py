"""The reviewed stamp mapping and its loader: every referenced stamp exists after `make assets` and
matches its checksum; class indices agree with ImageNet's class-name file."""
from __future__ import annotations

import numpy as np
import pytest

from camlib.utils.cache import sha256_of
from camlib.data.assets.opencv_doc import CLASS_NAMES_FILE, opencv_doc_paths
from camlib.data.generators.stamps import GROUPS_FILE, load_stamps, read_mapping, stamp_mapping, stamp_paths
from camlib.utils.errors import CamlibError, CorruptFileError

HEADER = "stamp\tclass_index\tclass_name\tsha256\tnotes"


def test_mapping_parses_and_rejects_bad_rows():
    good = f"# comment\n{HEADER}\na/b.png\t8\then\t{'0' * 64}\t.txt: A hen. Seen: a hen\n"
    (entry,) = read_mapping(good)
    assert (entry.path, entry.class_index, entry.class_name) == ("a/b.png", 8, "hen")
    with pytest.raises(CorruptFileError, match="header"):
        read_mapping("a/b.png\t8\then\tx\tnotes\n")
    with pytest.raises(CorruptFileError, match="class index 0-999"):
        read_mapping(f"{HEADER}\na/b.png\t1000\tx\t{'0' * 64}\tnotes\n")
    with pytest.raises(CorruptFileError, match="listed twice"):
        read_mapping(f"{HEADER}\n" + f"a/b.png\t8\then\t{'0' * 64}\tn\n" * 2)


def test_mapping_names_match_imagenet_class_file():
    (path,) = opencv_doc_paths([CLASS_NAMES_FILE])
    names = [line.split(",")[0].strip() for line in path.read_text().splitlines()]
    entries = stamp_mapping()
    assert len(entries) == 119 and len({e.class_index for e in entries}) == 94
    wrong = [(e.path, e.class_index, e.class_name, names[e.class_index]) for e in entries if names[e.class_index] != e.class_name]
    assert not wrong, wrong
    assert all(e.notes.startswith(".txt: ") and " Seen: photo of " in e.notes for e in entries)


def test_every_stamp_exists_and_matches_its_checksum():
    paths = stamp_paths()
    assert len(paths) == len(stamp_mapping())
    for entry, path in zip(stamp_mapping(), paths):
        assert path.is_file() and sha256_of(path) == entry.sha256, entry.path


@pytest.mark.slow
def test_loaded_stamps_have_exact_masks():
    stamps = load_stamps()
    for stamp in stamps:
        assert stamp.rgba.dtype == np.uint8 and stamp.rgba.shape[2] == 4
        assert np.array_equal(stamp.mask, stamp.rgba[..., 3] / 255 > 0.5)
        assert 0.05 < stamp.mask.mean() < 1, f"{stamp.path}: a cut-out should have transparent surroundings"


def test_groups_mapping_lists_photos_in_groups_of_six_or_more():
    entries = stamp_mapping(GROUPS_FILE)
    counts = np.bincount([e.class_index for e in entries])
    assert len(entries) == 258 and len(counts) == 14 and counts.min() >= 6
    names = {}
    for e in entries:
        assert names.setdefault(e.class_index, e.class_name) == e.class_name, e.path  # one name per group
        assert e.notes.startswith(".txt: ") and " Seen: " in e.notes, e.path
    paths = stamp_paths(GROUPS_FILE)
    for entry, path in zip(entries, paths):
        assert sha256_of(path) == entry.sha256, entry.path
    shared = {e.path: e.sha256 for e in stamp_mapping()}
    assert all(shared.get(e.path, e.sha256) == e.sha256 for e in entries)  # a stamp in both lists is the same file
    with pytest.raises(CamlibError, match="unknown stamp mapping"):
        stamp_mapping("stamps_animals.tsv")
