-- Run once by the postgres image's entrypoint, on the first start of an empty data volume (as
-- POSTGRES_USER, who then owns them): one database per Bazar replica, bazar_<pod name>, as each
-- replica's BAZAR_DATABASE_URL names it (postgres://…/bazar_$(BAZAR_NAME), replicas.yaml).
-- The pod names have a dash, so the names are quoted here; the replicas quote them too when they
-- create a missing one. (compose's docker/postgres-init has bazar_catalog_1…: its replicas are
-- named catalog-1…, and it writes each URL by hand.) With more replicas, add their databases here
-- or let the replicas create them on their first start.
CREATE DATABASE "bazar_catalog-0";
CREATE DATABASE "bazar_catalog-1";
CREATE DATABASE "bazar_catalog-2";
CREATE DATABASE "bazar_order-0";
CREATE DATABASE "bazar_order-1";
CREATE DATABASE "bazar_order-2";
