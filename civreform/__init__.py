"""civreform: track whether a government plan is carried out, deadline by deadline."""


def __getattr__(name: str):
    # Read lazily: importlib.metadata scans installed distributions, which every
    # CLI start would otherwise pay for.
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("civreform")
        except PackageNotFoundError:  # a source tree that was never installed
            return "0+unknown"
    raise AttributeError(name)
