"""Small helpers with no dependency on the rest of :mod:`vpd_mm`."""
from .native_output import quiet_native_output

__all__ = ['quiet_native_output']
