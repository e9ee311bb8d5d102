"""Build hook: fetch pinned htmx and compile translations before the wheel is assembled."""
import importlib.util
from pathlib import Path

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class CustomBuildHook(BuildHookInterface):
    def initialize(self, version, build_data):
        path = Path(self.root) / "tools" / "vendor.py"
        spec = importlib.util.spec_from_file_location("portal_vendor", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        module.main(app_only=True)  # the tests' axe-core is not part of the application
