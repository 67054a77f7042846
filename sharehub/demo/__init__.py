"""The demo organization: one city's departments, people and about 300 shared resources.

`sharehub demo` loads it with `sharehub.demo.generator.load`; the content lives in `data`.
"""
