"""The CycloneDX bill of materials of a decision: ``sbom.cdx.json``, a subject of the signed record."""

from gate.sbom.cyclonedx import SPEC_VERSION, bom_ref_for, purl_for, render_sbom

__all__ = ["SPEC_VERSION", "bom_ref_for", "purl_for", "render_sbom"]
