"""Data-access requests: the workflow table and the one gate every move goes through,
filing, the applicant's side, endorsement, committee review, what follows approval,
expiry, and the actions table the API and the pages share."""
