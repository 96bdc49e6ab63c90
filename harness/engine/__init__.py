"""The merge engine: a pure planner, a physical merge, and a materializer that writes a plan."""
