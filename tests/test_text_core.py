"""envquality.core (shared types without import cycles) and envquality.text (safe text)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from envquality.core import REJECT_COLUMNS, InputError, ReadResult, decode_bytes, rejects_frame
from envquality.iotools import common
from envquality.iotools.generic import load_mapping
from envquality.text import bounded_excerpt, terminal_safe

SECRET = "root:$6$SECRETHASHSECRETHASH:19000:0:99999:7:::"


def test_common_reexports_core_types():
    assert common.InputError is InputError and common.ReadResult is ReadResult
    assert common.REJECT_COLUMNS == REJECT_COLUMNS and common.decode_bytes is decode_bytes
    assert list(rejects_frame([]).columns) == list(REJECT_COLUMNS)


def test_core_imports_no_envquality_module_but_text():
    code = ("import sys, envquality.core; "
            "print(sorted(m for m in sys.modules if m.startswith('envquality')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['envquality', 'envquality.core', 'envquality.text']"


def test_registry_and_readers_import_each_other_without_cycles():
    code = "import envquality.registry, envquality.iotools.pm25in, envquality.water.registry"
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("raw", ["\x1b[2J\x1b[31mred", "bell\x07", "nul\x00", "csi\x9b31m", "rlo\u202eevil"])
def test_terminal_safe_neutralises_control_characters(raw):
    out = terminal_safe(raw)
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F or 0x202A <= ord(c) <= 0x202E for c in out)
    assert "\\x" in out or "\\u" in out


def test_terminal_safe_keeps_text_and_optionally_newlines():
    assert terminal_safe("兰州 PM2.5") == "兰州 PM2.5"
    assert terminal_safe("a\nb") == "a\\nb"
    assert terminal_safe("a\nb", keep_newlines=True) == "a\nb"
    assert terminal_safe(None) == ""


def test_bounded_excerpt_is_short_sanitised_and_first_line_only():
    assert bounded_excerpt("2024-13-01") == "'2024-13-01'"
    long = bounded_excerpt("x" * 500, limit=20)
    assert len(long) <= 20 + 3 and long.endswith("…'")
    two = bounded_excerpt("first\n" + SECRET)
    assert "SECRET" not in two and two == "'first…'"
    assert "\x1b" not in bounded_excerpt("\x1b[2Jx")


def test_input_error_message_is_terminal_safe():
    err = InputError("f\x1b[2J.csv", 3, "ti\x1bme", "bad value \x07")
    assert "\x1b" not in str(err) and "\x07" not in str(err)
    assert "line 3" in str(err)


def test_mapping_error_does_not_print_a_line_of_a_wrong_file(tmp_path):
    shadow = tmp_path / "shadow"
    shadow.write_text(SECRET + "\ndaemon:*:19000:0:99999:7:::\n")
    with pytest.raises(InputError) as exc:
        load_mapping(shadow)
    assert "SECRET" not in str(exc.value) and "daemon" not in str(exc.value)
    assert "not an envquality mapping" in str(exc.value)


def test_yaml_error_quotes_no_file_content(tmp_path):
    f = tmp_path / "m.yaml"
    f.write_text(f'columns: [{SECRET}\nb: "x\n')
    with pytest.raises(InputError) as exc:
        load_mapping(f)
    assert "SECRET" not in str(exc.value) and "line" in str(exc.value)


def test_long_header_is_quoted_bounded(tmp_path):
    from envquality.iotools.pm25in import read_pm25in

    with pytest.raises(InputError) as exc:
        read_pm25in(("Date," + SECRET * 5 + "\n1,2\n").encode(), city="兰州", name="兰州.csv")
    quoted = str(exc.value).split("(got ", 1)[1]
    assert len(quoted) <= 80 + 4 and quoted.endswith("…')")
