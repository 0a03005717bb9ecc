"""What is shared and how it leaves: catalogue/ (studies, consent groups, files), agreements/,
downloads/ (signed URLs) over storage/, the GA4GH DRS API in drs/, the open tier in
results/, the demo study in demo/, and the download client in client/."""
