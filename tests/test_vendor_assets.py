"""The book's vendored JavaScript is what its pin says, byte for byte (checked offline)."""

import shutil

from tools import vendor_assets


def test_committed_files_match_the_record_of_their_pinned_package():
    for pin in vendor_assets.PINS:
        assert vendor_assets.check(pin) == []


def test_an_edited_missing_or_extra_file_is_named(tmp_path):
    pin = vendor_assets.PINS[0]
    shutil.copytree(vendor_assets.VENDOR / pin.folder, tmp_path / pin.folder)
    (tmp_path / pin.folder / "es5" / "tex-chtml-full.js").write_text("// edited")
    (tmp_path / pin.folder / "LICENSE").unlink()
    (tmp_path / pin.folder / "extra.js").write_text("")
    problems = vendor_assets.check(pin, tmp_path)
    assert problems == [
        "mathjax/LICENSE is missing",
        "mathjax/es5/tex-chtml-full.js differs from mathjax@3.2.2's",
        "mathjax/extra.js is not from mathjax@3.2.2",
    ]


def test_a_record_of_another_version_is_named(tmp_path):
    pin = vendor_assets.PINS[0]
    shutil.copytree(vendor_assets.VENDOR / pin.folder, tmp_path / pin.folder)
    other = vendor_assets.Pin(pin.package, "9.9.9", pin.integrity, pin.files, pin.folder)
    assert vendor_assets.check(other, tmp_path) == ["mathjax: vendored 3.2.2 as version, the pin says 9.9.9"]
