-- The README's database steps (Production, step 3), as PostgreSQL's superuser at first start.
CREATE ROLE custodian LOGIN PASSWORD 'owner-trial';
CREATE ROLE custodian_app LOGIN PASSWORD 'app-trial';
CREATE DATABASE custodian OWNER custodian;
