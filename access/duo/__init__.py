"""The GA4GH Data Use Ontology: its code list and the automatic data-use match of a
research purpose against a dataset's terms."""
