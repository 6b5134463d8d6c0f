"""Root-cause diagnosis: ranked hypotheses over topology, timing and recent changes, with evidence."""
