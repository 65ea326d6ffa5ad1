"""Job definitions in Nosana's format: parse and validate, fill in literals, plan the run.

    from crowdcompute.client.jobspec import load, parse, plan, ValidationError

README.md in this folder documents the format: every Nosana field, what a crowdcompute
worker honours, what it refuses and why, and our extensions. Names load on first use,
so `import crowdcompute.client` stays light (PyYAML is imported only for YAML files).
"""

from ..lazy import lazy_attributes

__all__ = [
    "JobDefinition", "Operation", "RunArgs", "CreateVolumeArgs", "Execution", "VolumeMount",
    "RestartPolicy", "ResultRule", "Limits", "ExposedPort", "HealthCheck", "Problem", "ValidationError", "LoadError",
    "LiteralError", "RunContext", "Stage", "parse", "load", "loads", "read", "plan",
    "resolve_args", "extract_results", "vram_satisfies", "RUN", "CREATE_VOLUME", "KINDS", "OpKind",
]

_HOMES = {
    **dict.fromkeys(
        ["JobDefinition", "Operation", "RunArgs", "CreateVolumeArgs", "Execution",
         "VolumeMount", "RestartPolicy", "ResultRule", "Limits", "ExposedPort", "HealthCheck", "RUN", "CREATE_VOLUME"], ".model"),
    "KINDS": ".kinds", "OpKind": ".kinds",
    "Problem": ".problems", "ValidationError": ".problems",
    "LoadError": ".loader", "load": ".loader", "loads": ".loader", "read": ".loader",
    "parse": ".parsing",
    "LiteralError": ".literals", "RunContext": ".literals", "resolve_args": ".literals",
    "Stage": ".planning", "plan": ".planning",
    "extract_results": ".results",
    "vram_satisfies": ".requirements",
}


__getattr__ = lazy_attributes(__name__, _HOMES, globals())
