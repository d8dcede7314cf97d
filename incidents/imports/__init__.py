"""The import pipeline: a use-of-force file read, matched to the force's reports and written as a data version.

pipeline.py runs an import; matching.py matches rows to held reports; areas.py finds the areas;
bulk.py writes rows in bulk (COPY); uploads.py keeps uploaded files and reject files. The formats
themselves are read by incidents.readers, incidents.met_format and incidents.canonical.
"""
