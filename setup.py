"""The one compiled part: a column's keyed digests in C (hurricane_assets/masking/operators/_keyed_many.c).

Everything else is declared in pyproject.toml. The extension links OpenSSL's libcrypto (Debian:
libssl-dev); `optional` keeps `pip install` working without a C compiler or those headers, and the
masking then computes the same bytes in Python loops, several times slower
(tests/hurricane_assets/masking/operators/test_keyed_many.py fails where it was not built).
"""

from setuptools import Extension, setup

setup(ext_modules=[Extension("hurricane_assets.masking.operators._keyed_many",
                             sources=["hurricane_assets/masking/operators/_keyed_many.c"],
                             libraries=["crypto"], optional=True)])
