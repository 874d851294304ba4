"""The lab: local twins of AWS and OpenShift that fail the way the real ones fail.

The lab is the collection's test oracle and the demo's default world. It never
imports code from ``plugins/``: what it models follows real AWS and OpenShift
behaviour (see docs/lab.md), not the collection's idea of it.
"""
