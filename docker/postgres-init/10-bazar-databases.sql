-- Run once by the postgres image's entrypoint, on the first start of an empty data volume
-- (as POSTGRES_USER, who then owns them): one database per Bazar replica, as named by each
-- replica's BAZAR_DATABASE_URL in compose.yaml. (A replica would also create its own database
-- if it were missing; creating them here keeps that out of a first start's race.)
CREATE DATABASE bazar_catalog_1;
CREATE DATABASE bazar_catalog_2;
CREATE DATABASE bazar_order_1;
CREATE DATABASE bazar_order_2;
