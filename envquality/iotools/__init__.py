"""Readers: every file and network read, as ``read_*`` functions.

Each returns a :class:`~envquality.iotools.common.ReadResult`.
"""
