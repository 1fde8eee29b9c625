"""What is installed is the shipped wheel: abi3 (one wheel for CPython >= 3.10) and a stripped
native module (no symbol table, no debug info)."""

from __future__ import annotations

import importlib.metadata
import pathlib
import struct
import sys

import pytest

from webmessaging import _native


def _elf_section_names(path: pathlib.Path) -> set[str]:
    """Section names of a 64-bit little-endian ELF file (the section header string table)."""
    data = path.read_bytes()
    assert data[:4] == b"\x7fELF" and data[4] == 2 and data[5] == 1, "expected ELF64 little-endian"
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    headers = [struct.unpack_from("<IIQQQQ", data, shoff + i * shentsize) for i in range(shnum)]
    strtab_offset, strtab_size = headers[shstrndx][4], headers[shstrndx][5]
    strtab = data[strtab_offset : strtab_offset + strtab_size]
    return {strtab[h[0] : strtab.index(b"\0", h[0])].decode() for h in headers}


def test_installed_from_an_abi3_wheel():
    wheel = importlib.metadata.distribution("webmessaging").read_text("WHEEL") or ""
    tags = [line.split(":", 1)[1].strip() for line in wheel.splitlines() if line.startswith("Tag:")]
    assert tags and all(tag.startswith("cp310-abi3-") for tag in tags), tags
    assert pathlib.Path(_native.__file__).name.startswith("_native.abi3.")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads the ELF module")
def test_native_module_is_stripped():
    names = _elf_section_names(pathlib.Path(_native.__file__))
    assert ".text" in names and ".dynsym" in names  # the parse found real sections
    assert not {n for n in names if n.startswith(".debug_") or n == ".symtab"}, sorted(names)
