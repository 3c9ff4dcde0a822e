"""What the experiment commands (sim.sweep, sim.compare, sim.sensitivity) share on the command
line: Hydra's own flags, and the exit status of a run that stops early."""

from __future__ import annotations

import sys
from collections.abc import Callable
from concurrent.futures import BrokenExecutor

import hydra
from omegaconf import DictConfig, OmegaConf

from sim.config import CONF_DIR
from sim.params import ConfigError
from sim.sweep.errors import Terminated

#: Arguments handled by Hydra itself (printing the config, help), not by the command.
HYDRA_FLAGS = ("--cfg", "-c", "--help", "-h", "--hydra-help", "--info", "-i", "--resolve",
               "--package", "-p")


def asks_hydra(args: list[str], flags: tuple[str, ...] = HYDRA_FLAGS) -> bool:
    return any(arg.split("=")[0] in flags for arg in args)


def hydra_answers(config_name: str, args: list[str]) -> int:
    """Let Hydra answer its own flags (``--cfg job``, ``--help``) for ``conf/<config_name>``."""

    @hydra.main(config_path=str(CONF_DIR), config_name=config_name, version_base="1.3")
    def show(cfg: DictConfig) -> None:
        print(OmegaConf.to_yaml(cfg))

    sys.argv = [sys.argv[0], *args]
    show()
    return 0


def exit_status(work: Callable[[], int],
                input_errors: tuple[type[Exception], ...] = (ConfigError,)) -> int:
    """Run a command's ``work`` and return its status: 2 for bad input (nothing written),
    130 for Ctrl-C, 143 for SIGTERM, 2 for a folder that cannot be written and 1 for a dead
    worker (finished runs are saved: rerun to resume)."""
    try:
        return work()
    except input_errors as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: finished runs are saved; rerun the same command to resume",
              file=sys.stderr)
        return 130
    except Terminated:
        print("terminated: finished runs are saved; rerun the same command to resume",
              file=sys.stderr)
        return 143
    except OSError as err:  # an unwritable or full folder: the manifest says "interrupted"
        print(f"error: cannot write {err.filename or 'the output folder'}: "
              f"{err.strerror or err}; finished runs are saved; free space or fix the "
              "folder, then rerun the same command to resume", file=sys.stderr)
        return 2
    except BrokenExecutor as err:
        print(f"error: a worker process died ({err}); finished runs are saved; rerun the same "
              "command to resume", file=sys.stderr)
        return 1
