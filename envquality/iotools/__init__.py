"""Readers: every file and network read, as ``read_*`` functions returning :class:`~envquality.iotools.common.ReadResult`."""
