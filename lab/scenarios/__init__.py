"""Declarative worlds: one YAML file describes a cluster and its AWS account together.

``build_world(lab, "broken-private-bucket")`` builds a shipped scenario (or a
file, or a mapping) in a started :class:`lab.world.Lab` through the twins' own
APIs and returns a :class:`World`; ``World.write_install_dir(dir)`` writes what
a user holds before ``openshift-install create cluster``. The format is
documented field by field in docs/lab.md ("Scenarios").
"""

from lab.scenarios.builder import World, WorldComponent, build_world
from lab.scenarios.installdir import write_install_dir
from lab.scenarios.loader import ScenarioError, load_scenario, parse_set, scenario_names, scenario_path

__all__ = ["World", "WorldComponent", "build_world", "write_install_dir", "ScenarioError", "load_scenario",
           "parse_set", "scenario_names", "scenario_path"]
