"""AlphaHome: a Tushare Pro research warehouse with point-in-time financial tables."""

__version__ = "0.1.0"
