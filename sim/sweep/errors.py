"""Why a sweep stopped early, shared by the engine (which raises) and the CLI (which reports)."""


class Terminated(BaseException):
    """SIGTERM (a batch system's cancel, ``kill``): stop like Ctrl-C, recording the attempt."""
