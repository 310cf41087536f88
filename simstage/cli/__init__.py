"""The command line: a short root group (`root`), the error helpers (`errors`), one stage-options
decorator shared by the commands (`options`), and one module per command."""

from simstage.cli.root import main

__all__ = ["main"]
