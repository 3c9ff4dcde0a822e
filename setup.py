"""Build hook: ship ``conf/`` (the Hydra configs, with the example designs and experiments that
commands load by name) inside the package as ``sim/conf``, so an installed wheel composes
configs. Everything else is in pyproject.toml. ``sim.config.CONF_DIR`` finds either copy."""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildPyWithConf(build_py):
    def run(self) -> None:
        super().run()
        if not self.editable_mode:  # an editable install reads the checkout's conf/
            self.copy_tree("conf", str(Path(self.build_lib) / "sim" / "conf"))


setup(cmdclass={"build_py": BuildPyWithConf})
